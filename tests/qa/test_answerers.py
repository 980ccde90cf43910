"""The answerers by name: every backend has one, the service answers with whichever its backend
names, and a new answerer is one module that registers itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qa.answerers import ANSWERERS, Needs, answerer, register
from qa.answerers.extractive import Extractive
from qa.answerers.generative import Generative
from qa.llm import BACKENDS, Backend, LLMError
from qa.service import Service
from qa.types import Answer, Event, Passage


def test_every_backend_names_an_answerer() -> None:
    assert set(ANSWERERS) == set(BACKENDS)  # the names QA_BACKEND and --backend accept
    assert ANSWERERS["extractive"] is Extractive
    assert ANSWERERS["llamacpp"] is ANSWERERS["openai"] is Generative


def test_an_unknown_name_or_a_missing_model_is_an_llm_error(fake_embedder: object) -> None:
    needs = Needs(fake_embedder, lambda term: 1.0, Backend("openai", "m"))  # type: ignore[arg-type]
    with pytest.raises(LLMError, match="Unknown backend 'nope'"):
        answerer("nope", needs)
    with pytest.raises(LLMError, match="no chat model"):
        answerer("openai", needs)
    with pytest.raises(ValueError, match="two answerers"):
        register("extractive")(Extractive)


class Echo:
    """A whole answerer in a few lines: it says which passages it was handed."""

    def __init__(self, needs: Needs) -> None:
        self.needs = needs

    def answer(self, question: str, query: str, passages: list[Passage]) -> Iterator[Event]:
        yield Event("token", f"{len(passages)} passages for {query}")
        yield Event("done", Answer(question, f"{len(passages)} passages for {query}", True, (),
                                   tuple(passages), query, reason="answered"))


def test_the_service_answers_with_the_answerer_its_backend_names(
    sample_service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(ANSWERERS, "echo", Echo)
    service = Service(sample_service.store, sample_service.embedder, 3, backend=Backend("echo"))
    events = list(service.stream("Who was killed at the fake roadblock?"))
    assert [e.kind for e in events] == ["token", "done"]
    assert events[-1].data.answer == "3 passages for Who was killed at the fake roadblock?"
    extractive = sample_service.ask("Who was killed at the fake roadblock?")
    assert extractive.generator is not None and extractive.generator.backend == "extractive"
