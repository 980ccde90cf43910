"""The plain data passed between the indexing stages."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Article:
    """One cleaned article. `text` is what is stored; chunk offsets point into it."""

    doc_id: str
    title: str
    text: str
    source: str
    date: str = ""
    author: str = ""


@dataclass(frozen=True)
class Chunk:
    """A slice `article.text[start:end]` sized for the embedding model."""

    chunk_id: str
    doc_id: str
    index: int
    start: int
    end: int
    text: str
    embed_text: str


@dataclass(frozen=True)
class LoadError:
    """A file (or a line of one) that could not be read, with the reason for a human; or, with
    `skipped` false, a note on an article that was read but not whole (cut to the size limit);
    or, with `warning` too, on a file that was read whole but not all of it is used (fields
    of a JSONL file that are not read)."""

    path: str
    reason: str
    skipped: bool = True
    warning: bool = False

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"
