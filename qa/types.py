"""The data at the seams of answering: `Passage` in, `Answer` with `Citation`s out.

`Answer.to_dict()` is the one JSON shape shared by `python -m qa ask --json`, the HTTP API and the
Python client.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk: `text == article_text[start:end]`."""

    doc_id: str
    chunk_id: str
    title: str
    source: str
    date: str
    text: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Citation:
    """Citation [n]: the exact `quote == article_text[start:end]` from one passage."""

    n: int
    doc_id: str
    chunk_id: str
    title: str
    source: str
    date: str
    quote: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Checked:
    """One sentence of an answer after verification: its citation numbers, whether the cited
    passages support it, and the support score. `reason` says why a sentence is unsupported
    whatever its score: "instruction" (it reads as an order to the model or the reader, such as
    an injected "ignore all previous instructions"); empty otherwise."""

    text: str
    citations: tuple[int, ...]
    supported: bool
    support: float
    reason: str = ""


@dataclass(frozen=True)
class Generator:
    """What produced an answer: the backend, its model and the prompt template (name + hash)."""

    backend: str = "extractive"
    model: str = ""
    template: str = ""
    template_sha: str = ""


@dataclass(frozen=True)
class Answer:
    """What the service says to a question. `query` is what was searched for: the question itself,
    or the standalone form of a follow-up."""

    question: str
    answer: str
    answerable: bool
    citations: tuple[Citation, ...] = ()
    passages: tuple[Passage, ...] = field(default=())
    query: str = ""
    sentences: tuple[Checked, ...] = ()
    generator: Generator = Generator()
    short: str | None = None  # the span of the best cited sentence that answers, if one does
    reason: str = ""  # "answered", "partial" (answered with a caveat) or "not_found" (refused)
    confidence: float | None = None  # the reader's probability that its best sentence answers

    def to_dict(self) -> dict[str, Any]:
        cited = {c.chunk_id for c in self.citations}
        return {
            "question": self.question,
            "query": self.query or self.question,
            "answer": self.answer,
            "answerable": self.answerable,
            "citations": [asdict(c) for c in self.citations],
            "passages": [{**asdict(p), "cited": p.chunk_id in cited} for p in self.passages],
            "sentences": [asdict(s) for s in self.sentences],
            "generator": asdict(self.generator),
            "short": self.short,
            "reason": self.reason or ("answered" if self.answerable else "not_found"),
            "confidence": self.confidence,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        """The inverse of `to_dict` (the `cited` flags are derived, so they are dropped)."""
        return cls(
            question=data["question"], answer=data["answer"], answerable=data["answerable"],
            citations=tuple(Citation(**c) for c in data.get("citations", [])),
            passages=tuple(Passage(**{k: v for k, v in p.items() if k != "cited"})
                           for p in data.get("passages", [])),
            query=data.get("query", ""),
            sentences=tuple(Checked(s["text"], tuple(s["citations"]), s["supported"],
                                    s["support"], s.get("reason", ""))
                            for s in data.get("sentences", [])),
            generator=Generator(**data.get("generator", {})),
            short=data.get("short"), reason=data.get("reason", ""),
            confidence=data.get("confidence"))


@dataclass(frozen=True)
class Event:
    """One step of a streamed answer: `token` (text), `citation` (Citation), `done` (Answer)."""

    kind: str
    data: Any
