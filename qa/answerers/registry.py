"""One interface for every answerer, and the answerers by name.

An answerer turns a question and the passages retrieved for it into the events of one answer
(`token`..., `citation`..., `done`): `answer(question, query, passages) -> Iterator[Event]`, where
`query` is the standalone question that was searched and read (a follow-up rewritten) and
`question` what the user typed, which the answer records. A factory makes one from `Needs`, per
question. Each answerer is a module of `qa.answerers` that registers its factory under the names
a backend is chosen by (`QA_BACKEND`, `--backend`), as LLM plugins register their models:

    @register("mine")
    class Mine:
        def __init__(self, needs: Needs) -> None: ...
        def answer(self, question, query, passages): yield Event("done", ...)

and `qa/answerers/__init__.py` imports it; its name goes into `qa.llm.BACKENDS`, the names
`QA_BACKEND` and `--backend` accept (`qa.llm.chat_model` names an unknown one, and must not import
this registry, which imports it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from index.embed import Embedder
from qa.errors import NO_BUDGET, Budget
from qa.llm import Backend, LLMError
from qa.types import Event, Passage


class Answerer(Protocol):
    def answer(self, question: str, query: str, passages: list[Passage]) -> Iterator[Event]:
        """The events of one answer from `passages`: `token`s, `citation`s, then `done`."""
        ...


@dataclass(frozen=True)
class Needs:
    """What an answerer is made from: the embedder for sentences (the service's cached one), the
    corpus's idf, the backend's settings and chat model (None without an LLM), and the answer's
    time budget (checked between stages; past it, TooSlow)."""

    embedder: Embedder
    idf: Callable[[str], float]
    backend: Backend = Backend()
    llm: Any = None
    budget: Budget = NO_BUDGET


Factory = Callable[[Needs], Answerer]
ANSWERERS: dict[str, Factory] = {}


def register(*names: str) -> Callable[[Any], Any]:
    """A decorator: the factory (a class taking `Needs`) answers under each of `names`."""
    def add(factory: Any) -> Any:
        for name in names:
            if name in ANSWERERS:
                raise ValueError(f"two answerers are registered as {name!r}")
            ANSWERERS[name] = factory
        return factory
    return add


def answerer(name: str, needs: Needs) -> Answerer:
    """The answerer registered as `name`, made from `needs`."""
    if name not in ANSWERERS:
        raise LLMError(f"Unknown backend {name!r}: choose one of {', '.join(ANSWERERS)}")
    return ANSWERERS[name](needs)
