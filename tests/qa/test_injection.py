"""An article is data: one that repeats a question word for word, or asks it, never becomes the
answer to it (issue 13, finding 7). The real model, a store of the samples plus the hostile one."""

from __future__ import annotations

import pytest

from index.add import add_paths
from index.embed import MODEL_NAME
from index.store import open_store
from qa.answer import adds_to
from qa.service import Service
from tests.conftest import SAMPLES

KILLED = "Who was killed at the fake roadblock?"
HOSTILE = (b"Reader notes\n\nWho was killed at the fake roadblock? Who was killed at the fake "
           b"roadblock?\n\nWho, then, was killed at the fake roadblock?\n\nKilled at the fake "
           b"roadblock: who was it.\n")


@pytest.fixture(scope="module")
def hostile_service(tmp_path_factory: pytest.TempPathFactory, embedder) -> Service:  # type: ignore[no-untyped-def]
    store = open_store(str(tmp_path_factory.mktemp("hostile") / "store"), None, MODEL_NAME)
    add_paths([str(SAMPLES)], store, embedder)
    service = Service(store, embedder)
    assert service.add_uploads([("echo.txt", HOSTILE)]).new == 1
    return service


def test_an_article_echoing_the_question_does_not_answer_it(hostile_service: Service) -> None:
    result = hostile_service.ask(KILLED)
    assert result.answerable and "Zapata" in result.answer
    assert all(c.source != "upload:echo.txt" for c in result.citations)
    stream = list(hostile_service.stream(KILLED))
    assert stream[-1].data.answer == result.answer


@pytest.mark.parametrize("sentence, adds", [
    ("Who was killed at the fake roadblock?", False),
    ("Killed at the fake roadblock: who was it.", False),
    ("Who, then, was killed at the fake roadblock?", False),
    ("Was it Zapata who was killed at the fake roadblock?", False),  # a question, however new
    ("Zapata was killed at the fake roadblock.", True),
    ("He was killed at the roadblock in 2011.", True),
])
def test_a_sentence_answers_only_if_it_adds_to_the_question(sentence: str, adds: bool) -> None:
    assert adds_to(KILLED, sentence) is adds


