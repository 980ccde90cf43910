"""Settings read from the environment: declared once as data, each read once, typed, with help.

This module does not read files or parse command lines; the CLIs pass flags over these values.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from index.errors import AppError


class SettingError(AppError, ValueError):
    """A setting has a value that cannot be used; the message names the key."""

    code, status = "bad_setting", 500


@dataclass(frozen=True)
class Setting:
    """One environment setting: its key, type, default and a line of help."""

    key: str
    cast: Callable[[str], Any]
    default: Any
    help: str
    secret: bool = False  # keys and passwords: never repeated in an error message

    def read(self, environ: Mapping[str, str]) -> Any:
        raw = environ.get(self.key)
        if raw is None or raw.strip() == "":
            return self.default
        try:
            return self.cast(raw.strip())
        except ValueError as exc:
            shown = self.key if self.secret else f"{self.key}={raw!r}"
            raise SettingError(f"Setting {shown} is invalid: {exc}") from None


def positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("expected a positive integer")
    return value


def chroma_url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError("expected a URL such as http://127.0.0.1:8000")
    return raw.rstrip("/")


def precision(raw: str) -> str:
    if raw not in ("auto", "fp32", "bf16", "int8"):
        raise ValueError("expected auto, fp32, bf16 or int8")
    return raw


STORE_SETTINGS = (
    Setting("QA_STORE", str, "./store", "Folder of the embedded Chroma store."),
    Setting("QA_CHROMA_URL", chroma_url, None, "URL of a Chroma server; overrides QA_STORE."),
    Setting("QA_EMBED_BATCH", positive_int, 64, "Chunks embedded per model call."),
    Setting("QA_EMBED_PRECISION", precision, "auto",
            "Embedding arithmetic: fp32, bf16, int8 (ONNX), or auto (int8 if onnx is installed)."),
)


def read_settings(
    settings: tuple[Setting, ...], environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Read every setting once; raise SettingError naming the first bad key."""
    env = os.environ if environ is None else environ
    return {s.key: s.read(env) for s in settings}


def store_location(
    store_flag: str | None, url_flag: str | None, settings: Mapping[str, Any]
) -> tuple[str, str | None]:
    """(folder, server url or None): flags beat settings, and --store beats QA_CHROMA_URL."""
    url = url_flag or (None if store_flag else settings["QA_CHROMA_URL"])
    return store_flag or settings["QA_STORE"], url


def describe(settings: tuple[Setting, ...]) -> str:
    """A plain-text table of the settings, for --help and the README."""
    return "\n".join(f"{s.key:<18} default {s.default!r:<12} {s.help}" for s in settings)
