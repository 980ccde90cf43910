"""Generated sections of Markdown files: the text between two marker comments, rewritten."""

from __future__ import annotations

from pathlib import Path


def write_between(out: Path, section: str, start: str, end: str) -> None:
    """Replace `out`'s text from `start` to `end` with `section` (which carries the markers);
    the markers are appended first if missing, the file made if it doesn't exist."""
    text = out.read_text(encoding="utf-8") if out.exists() else f"# Benchmarks\n\n{start}\n{end}\n"
    if start not in text:
        text += f"\n{start}\n{end}\n"
    head, rest = text.split(start, 1)
    out.write_text(head + section + rest.split(end, 1)[1], encoding="utf-8")
