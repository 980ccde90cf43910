"""The kinds of miss issue 22 found on the sample articles, each with questions of our own (the
issue's own questions stay unseen): real model, real store of the two sample articles."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.add import add_paths
from index.embed import MODEL_NAME
from index.store import open_store
from qa.answerers.extractive import adds_to
from qa.reader.short import choose, fits
from qa.service import Service
from tests.conftest import SAMPLES, write

ROADBLOCK = "Who was killed at the fake roadblock?"


def test_a_short_answer_is_never_whom_the_question_names(sample_service: Service) -> None:
    """"What did Calderon tell Obama?" was answered "Mexico's President Felipe Calderon"."""
    result = sample_service.ask("What did Calderon tell Obama?")
    assert result.short is None or not {"calderon", "obama"} & set(result.short.lower().split())


@pytest.mark.parametrize(("question", "kind_word"), [
    ("How many people have died since December 2006?", "34,600"),
    (ROADBLOCK, "Zapata"),
])
def test_a_short_answer_is_of_the_kind_asked(sample_service: Service, question: str,
                                             kind_word: str) -> None:
    result = sample_service.ask(question)
    assert result.short is not None and kind_word in result.short


def test_a_person_the_articles_never_name_is_refused(sample_service: Service) -> None:
    result = sample_service.ask("What is the name of the U.S. ambassador's wife?")
    assert not result.answerable and result.short is None


def test_an_article_that_reports_the_question_is_not_its_answer(
        tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    echo = write(tmp_path / "echo" / "briefing.txt",
                 "Press briefing\n\nReporters asked who was killed at the fake roadblock.\n")
    store = open_store(str(tmp_path / "store"), None, MODEL_NAME)
    add_paths([str(SAMPLES), str(echo.parent)], store, embedder)
    result = Service(store, embedder).ask(ROADBLOCK)
    assert result.answerable and "Reporters" not in result.answer and result.short != "Reporters"
    assert "Zapata" in result.answer


@pytest.mark.xfail(reason="issue 22, kind 3: the answering sentence names its speaker as 'The "
                   "Mexican leader' and the reader, which reads no coreference, refuses at 0.19",
                   strict=True)
def test_a_sentence_that_names_its_speaker_by_title_answers(sample_service: Service) -> None:
    assert sample_service.ask("Who accused U.S. agencies of rivalries?").answerable


@pytest.mark.parametrize(("sentence", "evidence"), [
    ("Reporters asked who was killed at the fake roadblock.", False),
    ("Many wondered who was killed at the fake roadblock.", False),
    ("It remains unclear who was killed at the fake roadblock.", False),
    ("Who was killed at the fake roadblock?", False),
    ("Police said Zapata was killed at the fake roadblock.", True),
    ("Zapata was killed at the fake roadblock.", True),
])
def test_a_sentence_that_only_reports_the_question_is_no_evidence(sentence: str,
                                                                  evidence: bool) -> None:
    assert adds_to(ROADBLOCK, sentence) is evidence


SENTENCE = ("Now, President Barack Obama plans to meet Mexico's President Felipe Calderon amid a "
            "spike in violence that has left 34,600 people dead since December 2006.")


def span(text: str) -> tuple[int, int]:
    start = SENTENCE.index(text)
    return start, start + len(text)


@pytest.mark.parametrize(("question", "text", "ok"), [
    ("What did Obama say to Mexico's President Felipe Calderon?", "Mexico's President Felipe Calderon", False),
    ("What did Calderon tell Obama?", "President Felipe Calderon", False),
    ("Who will Obama meet?", "Mexico's President Felipe Calderon", True),
    ("How many people have died?", "34,600 people", True),
    ("How many people have died?", "Felipe Calderon", False),
    ("When did the violence start?", "December 2006", True),
    ("How many people have died?", "spike in violence", False),
    ("What has there been a spike in?", "violence", True),
])
def test_fits(question: str, text: str, ok: bool) -> None:
    assert fits(question, SENTENCE, *span(text)) is ok


def test_choose_takes_the_first_span_that_fits() -> None:
    spans = [span("President Felipe Calderon"), span("34,600 people"), span("December 2006")]
    assert choose("How many people have died since Calderon took office?", SENTENCE, spans) == \
        span("34,600 people")
    assert choose("When did Obama meet Calderon?", SENTENCE, spans[:1]) is None
