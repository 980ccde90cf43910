"""Prompt and message templates: text files in `prompts/` with named `{variables}`."""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass
from pathlib import Path

from index.errors import AppError

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


class TemplateError(AppError, KeyError):
    """A template is missing, or a variable it names was not given."""

    code, status = "bad_template", 500

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Template:
    name: str
    text: str

    @property
    def variables(self) -> frozenset[str]:
        return frozenset(f for _, f, _, _ in string.Formatter().parse(self.text) if f)

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:12]

    def render(self, **values: object) -> str:
        missing = sorted(self.variables - values.keys())
        if missing:
            names = ", ".join(missing)
            raise TemplateError(f"Template {self.name!r} is missing variables: {names}")
        return self.text.format(**values)

    def messages(self, **values: object) -> list[tuple[str, str]]:
        """(role, text) pairs from a template written in `[system]` / `[user]` sections. The
        sections are split before the values go in, so a value (an article's text, a question)
        that contains a `[system]` line stays inside its section: it can't add a message."""
        rendered = self.render(**values)  # names any missing variable
        parts = re.split(r"^\[(system|user|assistant)\][ \t]*$", self.text, flags=re.MULTILINE)
        pairs = [(role, Template(self.name, text.strip()).render(**values))
                 for role, text in zip(parts[1::2], parts[2::2], strict=True)]
        return pairs or [("user", rendered)]


def load_template(name: str, directory: Path = PROMPTS_DIR) -> Template:
    path = directory / f"{name}.txt"
    if not path.is_file():
        raise TemplateError(f"No template {name!r} in {directory}")
    return Template(name, path.read_text(encoding="utf-8").strip())
