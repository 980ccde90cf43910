"""Number the quoted sentences of an answer as citations [1], [2], ... and place the markers.

Adjacent sentences of one article merge into one quote, so a citation's `quote` is always the exact
text `article_text[start:end]`. It does not judge whether a quote supports a claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from qa.types import Citation, Passage


class Quoted(Protocol):
    @property
    def passage(self) -> Passage: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def score(self) -> float: ...


def cite(sentences: Sequence[Quoted]) -> tuple[str, list[Citation]]:
    """The answer text with a marker after each quote, and the citations, numbered in order."""
    citations: list[Citation] = []
    for group in merge_adjacent(reading_order(sentences)):
        first, last = group[0], group[-1]
        passage = first.passage
        quote = passage.text[first.start - passage.start : last.end - passage.start]
        citations.append(Citation(len(citations) + 1, passage.doc_id, passage.chunk_id,
                                  passage.title, passage.source, passage.date, quote,
                                  first.start, last.end, max(s.score for s in group)))
    text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
    return text, citations


def reading_order(sentences: Sequence[Quoted]) -> list[Quoted]:
    """Articles in order of their best sentence; sentences of one article in text order."""
    rank: dict[str, int] = {}
    for s in sentences:
        rank.setdefault(s.passage.doc_id, len(rank))
    return sorted(sentences, key=lambda s: (rank[s.passage.doc_id], s.start))


def merge_adjacent(sentences: list[Quoted]) -> list[list[Quoted]]:
    """Runs of sentences that follow each other in one passage, with only space between."""
    groups: list[list[Quoted]] = []
    for s in sentences:
        if groups and _follows(groups[-1][-1], s):
            groups[-1].append(s)
        else:
            groups.append([s])
    return groups


def _follows(before: Quoted, after: Quoted) -> bool:
    passage = before.passage
    if after.passage.chunk_id != passage.chunk_id or after.start < before.end:
        return False
    gap = passage.text[before.end - passage.start : after.start - passage.start]
    return gap.strip() == ""
