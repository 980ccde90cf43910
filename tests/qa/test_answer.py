"""Answers over the two sample articles, with the real model and a real Chroma store."""

from __future__ import annotations

import re

import pytest

from qa.errors import BadQuestion
from qa.service import Service
from tests.qa.conftest import article_text

QUESTIONS = [
    "Who was killed at the fake roadblock?",
    "Who was wounded in the ambush?",
    "How many people have died in Mexico's drug war?",
    "What did Brad Barker say about kidnapping?",
    "What do U.S. officials complain about?",
    "Who signed the January cable?",
]
CITATION_KEYS = {"n", "doc_id", "chunk_id", "title", "source", "date", "quote", "start", "end",
                 "score"}
PASSAGE_KEYS = {"doc_id", "chunk_id", "title", "source", "date", "text", "start", "end", "score",
                "cited"}


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_citation_quotes_the_stored_article_exactly(
    sample_service: Service, question: str
) -> None:
    result = sample_service.ask(question)
    assert result.answerable, result.answer
    for c in result.citations:
        assert article_text(sample_service, c.doc_id)[c.start : c.end] == c.quote
    for p in result.passages:
        assert article_text(sample_service, p.doc_id)[p.start : p.end] == p.text


@pytest.mark.parametrize("question", QUESTIONS[:3])
def test_markers_match_the_listed_citations(sample_service: Service, question: str) -> None:
    result = sample_service.ask(question)
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", result.answer)]
    assert markers == [c.n for c in result.citations] == list(range(1, len(markers) + 1))
    assert {c.chunk_id for c in result.citations} <= {p.chunk_id for p in result.passages}


def test_the_answer_names_who_was_killed(sample_service: Service) -> None:
    result = sample_service.ask("Who was killed at the fake roadblock?")
    assert "Zapata" in result.answer
    assert "fake roadblock" in result.citations[0].quote


@pytest.mark.parametrize("question", [
    "Who won the 2018 FIFA World Cup?",
    "What is the boiling point of water at sea level?",
    "How do I bake sourdough bread?",
])
def test_refuses_what_the_articles_do_not_cover(sample_service: Service, question: str) -> None:
    result = sample_service.ask(question)
    assert not result.answerable
    assert result.answer.startswith("The articles don't say")
    assert result.citations == ()
    assert result.passages, "the nearest passages are still shown"


def test_json_object_has_the_stable_schema(sample_service: Service) -> None:
    data = sample_service.ask("Who was killed at the fake roadblock?").to_dict()
    assert set(data) == {"question", "query", "answer", "answerable", "citations", "passages",
                         "sentences", "generator", "short", "reason", "confidence"}
    assert data["reason"] in {"answered", "partial"} and 0 < data["confidence"] <= 1
    assert isinstance(data["answer"], str) and data["answerable"] is True
    assert data["citations"] and all(set(c) == CITATION_KEYS for c in data["citations"])
    assert data["passages"] and all(set(p) == PASSAGE_KEYS for p in data["passages"])
    assert {p["chunk_id"] for p in data["passages"] if p["cited"]} == {
        c["chunk_id"] for c in data["citations"]}
    first = data["citations"][0]
    assert isinstance(first["n"], int) and isinstance(first["start"], int)
    assert isinstance(first["score"], float)


@pytest.mark.parametrize("question", ["", "   \n ", "x" * 2001])
def test_empty_or_oversized_questions_are_rejected(sample_service: Service, question: str) -> None:
    with pytest.raises(BadQuestion, match="empty|limit"):
        sample_service.ask(question)
