"""The extractive answerer: no LLM, an answer made of the retrieved sentences that answer best.

Every candidate sentence of the retrieved passages (`qa.reader.candidate_sentences`: headings and
titles excepted) is scored by the learned reader (`qa.reader`): a calibrated probability that it
answers the question. Its first stage scores every sentence from features; its gate has the span
model read the best few and gives their final probabilities, and the span it points at in the best
one is the short answer (`rank`). The best sentence (and a close runner-up) form the answer, each
followed by its citation marker, with the short answer inside it. Three outcomes, each with a
`reason`: "answered"; "partial" (likely enough to show, with the caveat that the articles may only
partly answer); "not_found" (no sentence is likely enough: it refuses). `read` answers from
passages handed in; `answer` retrieves them first; `Extractive` is the registered answerer
(`extractive`) the service streams.

    result = answer(question, retriever, embedder, corpus.bm25.idf, reader)

The LLM backends' gate (`qa.answerers.generative`) uses the reader too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from langchain_core.runnables import Runnable

from index.embed import MODEL_NAME, Embedder
from qa.answerers.registry import Needs, register
from qa.citations import cite
from qa.errors import NO_BUDGET, Budget
from qa.lexical import analyze
from qa.prompts import load_template
from qa.reader import (
    Candidate,
    InPassage,
    Reader,
    candidate_sentences,
    load_reader,
    sentence_features,
)
from qa.reader.short import choose
from qa.types import Answer, Checked, Event, Generator, Passage

MAX_SENTENCES = 2
# A second sentence joins when its probability is at least this share of the best one's: on
# held-out training questions the gold sentence was then among those shown for 73.7% (top one
# alone 66.5%, both always 77.7%) at 1.38 sentences per answer.
SECOND_RATIO = 0.4
CAVEAT = "The articles may only partly answer this."
# The reader reads the sentences of the first this many passages however many were retrieved
# (the rest are listed, not read): a question with a large `k` costs at most this much reading.
READ_PASSAGES = 10


@dataclass(frozen=True)
class Sentence:
    """A candidate sentence: `text == article_text[start:end]`, inside `passage`."""

    passage: Passage
    start: int
    end: int
    text: str
    score: float = 0.0
    rank: int = 0  # its passage's place in the retrieval (0 = first)
    position: int = 0  # its place among its passage's sentences

    @property
    def in_passage(self) -> InPassage:
        return InPassage(self.passage.text, self.start - self.passage.start,
                         self.end - self.passage.start)


@register("extractive")
class Extractive:
    """The reader's answer, whole, as the events of a stream."""

    def __init__(self, needs: Needs) -> None:
        self.needs = needs

    def answer(self, question: str, query: str, passages: list[Passage]) -> Iterator[Event]:
        n = self.needs
        result = read(query, passages, n.embedder, n.idf, default_reader(), n.budget)
        sentences = tuple(Checked(c.quote, (c.n,), True, 1.0) for c in result.citations)
        yield from emit(replace(result, question=question, query=query, sentences=sentences,
                                generator=Generator("extractive", MODEL_NAME)))


def emit(result: Answer) -> Iterator[Event]:
    """A finished answer as the events of a stream: its text as it is, its citations, itself."""
    if result.answer:
        yield Event("token", result.answer)
    for citation in result.citations:
        yield Event("citation", citation)
    yield Event("done", result)


def answer(
    question: str,
    retriever: Runnable[str, list[Passage]],
    embedder: Embedder,
    idf: Callable[[str], float],
    reader: Reader | None = None,
) -> Answer:
    """Retrieve, let the reader score the sentences, then answer (perhaps with a caveat) or
    refuse."""
    return read(question, retriever.invoke(question), embedder, idf, reader or default_reader())


@lru_cache(maxsize=1)
def default_reader() -> Reader:
    """The shipped reader weights, loaded (and checked) on first use."""
    return load_reader()


def read(question: str, passages: list[Passage], embedder: Embedder,
         idf: Callable[[str], float], reader: Reader, budget: Budget = NO_BUDGET) -> Answer:
    """The reader's answer from `passages`: see the module's three outcomes. Past `budget`
    (checked between stages) it raises TooSlow."""
    scored, short = rank(question, passages, embedder, idf, reader, budget)
    refuse_below, caveat_below = reader.thresholds
    if not scored or scored[0].score < refuse_below:
        top = scored[0].score if scored else 0.0
        return replace(refuse(question, passages), confidence=round(top, 4))
    best = scored[0]
    chosen = [s for s in scored[:MAX_SENTENCES] if s.score >= best.score * SECOND_RATIO]
    text, citations = cite(chosen)
    partial = best.score < caveat_below
    return Answer(question, f"{CAVEAT} {text}" if partial else text, True, tuple(citations),
                  tuple(passages), short=short, reason="partial" if partial else "answered",
                  confidence=round(best.score, 4))


def rank(question: str, passages: list[Passage], embedder: Embedder,
         idf: Callable[[str], float], reader: Reader,
         budget: Budget = NO_BUDGET) -> tuple[list[Sentence], str | None]:
    """The candidate sentences of the first `READ_PASSAGES` passages with their final
    probabilities, best first, and the short answer inside the best one: what both the
    extractive answer and the LLM gate decide on."""
    scored = score_with_reader(question, candidates(passages[:READ_PASSAGES]), embedder, idf,
                               reader)
    budget.check()
    return gate(question, scored, reader)


def gate(question: str, scored: list[Sentence], reader: Reader) -> tuple[list[Sentence],
                                                                        str | None]:
    """The first stage's best sentences re-scored by the gate (the span model's reading of each),
    best first, and the short answer inside the best one; without a gate, the first stage's
    scores and the reader's `short` answer (none unless a baseline gives it one)."""
    if not scored:
        return [], None
    if reader.gate is None or reader.spans is None:
        return scored, reader.short(question, scored[0].text) if reader.short else None
    top = scored[:reader.gate.to_read([s.score for s in scored])]
    spans = reader.spans.read(question, [s.in_passage for s in top])
    p = reader.gate.probabilities(np.array([s.score for s in top]),
                                  np.array([s.margin for s in spans]))
    order = np.argsort(-p, kind="stable")
    best, sentence = spans[int(order[0])], top[int(order[0])].text
    rescored = [replace(top[i], score=round(float(p[i]), 4)) for i in order]
    chosen = choose(question, sentence, [(best.start, best.end), *best.others])
    if best.margin < reader.gate.short_floor or chosen is None:
        return rescored, None
    return rescored, sentence[chosen[0]:chosen[1]].strip() or None


def score_with_reader(question: str, sentences: list[Sentence], embedder: Embedder,
                      idf: Callable[[str], float], reader: Reader) -> list[Sentence]:
    """The sentences with the reader's probabilities as scores, best first; sentences that only
    echo the question (or ask one) are never candidates."""
    asked = frozenset(analyze(question))  # analysed once, not once per sentence
    sentences = [s for s in sentences if adds_to(question, s.text, asked)]
    if not sentences:
        return []
    dense = cosines(question, sentences, embedder) if reader.dense else np.zeros(len(sentences))
    rows = sentence_features(question, [Candidate(s.text, s.rank, s.position, s.passage.text,
                                                  s.start - s.passage.start)
                                        for s in sentences], dense, idf)
    p = reader.sentence.probabilities(rows)
    scored = [replace(s, score=round(float(x), 4)) for s, x in zip(sentences, p, strict=True)]
    return sorted(scored, key=lambda s: -s.score)


def cosines(question: str, sentences: list[Sentence], embedder: Embedder) -> np.ndarray:
    query = np.array(embedder.embed_query(question))
    return np.array(embedder.embed_documents([s.text for s in sentences])) @ query


def adds_to(question: str, sentence: str, asked: frozenset[str] | None = None) -> bool:
    """False for a sentence that is itself a question, or that says nothing beyond the question's
    own words but who asked or wondered it: an article that repeats a question word for word, or
    reports it ("Reporters asked who ..."), must not become its answer. `asked` is the question's
    analysed words, when the caller already has them."""
    if sentence.rstrip(" \"'”’)]").endswith("?"):
        return False
    new = set(analyze(sentence)) - (asked if asked is not None else set(analyze(question)))
    said = new - REPORTING
    if len(said) <= 1 and said != new:  # "Reporters asked who was killed ...": only who asked
        return not said <= set(analyze(" ".join(sentence.split()[:3])))
    return bool(new)


# Verbs that report a question rather than answer it, analysed as the sentences are.
REPORTING = frozenset(analyze("ask asked asks wonder wondered wonders question questioned inquire "
                              "inquired want wanted know knew unclear unknown"))


def candidates(passages: list[Passage]) -> list[Sentence]:
    """The candidate sentences of the passages (`qa.reader.candidate_sentences`), each once."""
    seen: set[tuple[str, int]] = set()
    found: list[Sentence] = []
    for rank, passage in enumerate(passages):
        for a, b, position in candidate_sentences(passage.text, passage.title):
            key = (passage.doc_id, passage.start + a)
            if key not in seen:
                seen.add(key)
                found.append(Sentence(passage, passage.start + a, passage.start + b,
                                      passage.text[a:b], rank=rank, position=position))
    return found


def refuse(question: str, passages: list[Passage]) -> Answer:
    text = load_template("refusal").render(question=question.strip())
    return Answer(question, text, False, (), tuple(passages), reason="not_found")
