"""Citation numbering and quotes, with hand-made passages (no model)."""

from __future__ import annotations

from qa.answerers.extractive import Sentence
from qa.citations import cite
from qa.types import Passage

TEXT = "Alpha was first. Beta came next. Gamma ended it."


def passage(chunk_id: str, doc_id: str, start: int = 0, text: str = TEXT) -> Passage:
    return Passage(doc_id, chunk_id, doc_id.title(), f"{doc_id}.txt", "", text, start,
                   start + len(text), 0.1)


def sentence(p: Passage, quote: str, score: float) -> Sentence:
    start = p.start + p.text.index(quote)
    return Sentence(p, start, start + len(quote), quote, score)


def test_adjacent_sentences_of_one_passage_merge_into_one_exact_quote() -> None:
    p = passage("c1", "doc", start=100)
    text, citations = cite([sentence(p, "Beta came next.", 0.9), sentence(p, "Alpha was first.", 0.8)])
    assert text == "Alpha was first. Beta came next. [1]"
    (only,) = citations
    assert (only.n, only.quote, only.start, only.end) == (1, "Alpha was first. Beta came next.", 100, 132)


def test_separate_quotes_are_numbered_in_reading_order() -> None:
    p, q = passage("c1", "one"), passage("c2", "two")
    text, citations = cite([sentence(q, "Gamma ended it.", 0.9), sentence(p, "Alpha was first.", 0.8),
                            sentence(q, "Alpha was first.", 0.7)])
    assert text == "Alpha was first. [1] Gamma ended it. [2] Alpha was first. [3]"
    assert [(c.n, c.doc_id) for c in citations] == [(1, "two"), (2, "two"), (3, "one")]
