"""The extractive answerer: no LLM, an answer made of the retrieved sentences that answer best.

Every sentence of the retrieved passages (headings and titles excepted) is scored by the learned
reader (`qa.reader`): a calibrated probability that it answers the question. Its first stage
scores every sentence from features; its gate has the span model (`qa.span_model`) read the best
few and gives their final probabilities, and the span it points at in the best one is the short
answer (`rank`). The best sentence (and a close runner-up) form the answer, each followed by its
citation marker, with the short answer inside it. Three outcomes, each with a `reason`:
"answered"; "partial" (likely enough to show, with the caveat that the articles may only partly
answer); "not_found" (no sentence is likely enough: it refuses). `read` answers from passages
handed in; `answer` retrieves them first.

    result = answer(question, retriever, embedder, corpus.bm25.idf, reader)

`answer_heuristic` is the answerer before the reader (a fixed mix of cosine and word coverage),
kept as the "before" pipeline of `python -m qa.measuring.eval`; the LLM backends' gate uses the
reader too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from langchain_core.runnables import Runnable

from index.embed import Embedder
from index.sentences import after_title, is_heading, split_sentences
from qa.citations import cite
from qa.errors import NO_BUDGET, Budget
from qa.lexical import analyze
from qa.prompts import load_template
from qa.reader import Candidate, Reader, load_reader, sentence_features, short_answer
from qa.types import Answer, Passage

MEANING_SHARE = 0.5  # share of meaning vs words in a sentence's score
THRESHOLD = 0.45  # below this best score the articles are taken not to answer
MARGIN = 0.08  # a second sentence joins the answer when it scores within this of the best
MAX_SENTENCES = 2
MIN_WORDS = 4  # shorter "sentences" (headings, bylines) never answer
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
    scores and short answer."""
    if not scored:
        return [], None
    if reader.gate is None or reader.spans is None:
        return scored, short_answer(reader, question, scored[0].text)
    top = scored[:reader.gate.to_read([s.score for s in scored])]
    spans = reader.spans.read(question, [s.text for s in top],
                              [s.passage.text[:s.start - s.passage.start] for s in top])
    p = reader.gate.probabilities(np.array([s.score for s in top]),
                                  np.array([s.margin for s in spans]))
    order = np.argsort(-p, kind="stable")
    best = spans[int(order[0])]
    rescored = [replace(top[i], score=round(float(p[i]), 4)) for i in order]
    text = top[int(order[0])].text[best.start:best.end].strip()
    return rescored, text if best.margin >= reader.gate.short_floor and text else None


def score_with_reader(question: str, sentences: list[Sentence], embedder: Embedder,
                      idf: Callable[[str], float], reader: Reader) -> list[Sentence]:
    """The sentences with the reader's probabilities as scores, best first; sentences that only
    echo the question (or ask one) are never candidates."""
    asked = frozenset(analyze(question))  # analysed once, not once per sentence
    sentences = [s for s in sentences if adds_to(question, s.text, asked)]
    if not sentences:
        return []
    dense = cosines(question, sentences, embedder) if reader.dense else np.zeros(len(sentences))
    rows = sentence_features(question, [Candidate(s.text, s.rank, s.position, s.passage.text)
                                        for s in sentences], dense, idf)
    p = reader.sentence.probabilities(rows)
    scored = [replace(s, score=round(float(x), 4)) for s, x in zip(sentences, p, strict=True)]
    return sorted(scored, key=lambda s: -s.score)


def cosines(question: str, sentences: list[Sentence], embedder: Embedder) -> np.ndarray:
    query = np.array(embedder.embed_query(question))
    return np.array(embedder.embed_documents([s.text for s in sentences])) @ query


def answer_heuristic(
    question: str,
    retriever: Runnable[str, list[Passage]],
    embedder: Embedder,
    idf: Callable[[str], float],
    threshold: float = THRESHOLD,
) -> Answer:
    """The answerer before the reader: a fixed mix of cosine and coverage, one threshold."""
    passages = retriever.invoke(question)
    scored = score_sentences(question, candidates(passages), embedder, idf)
    chosen = select(scored, threshold)
    if not chosen:
        return refuse(question, passages)
    text, citations = cite(chosen)
    return Answer(question, text, True, tuple(citations), tuple(passages), reason="answered")


def adds_to(question: str, sentence: str, asked: frozenset[str] | None = None) -> bool:
    """False for a sentence that is itself a question, or that says nothing beyond the question's
    own words: an article that repeats a question word for word must not become its answer.
    `asked` is the question's analysed words, when the caller already has them."""
    if sentence.rstrip(" \"'”’)]").endswith("?"):
        return False
    return bool(set(analyze(sentence)) - (asked if asked is not None else set(analyze(question))))


def candidates(passages: list[Passage]) -> list[Sentence]:
    """The sentences of the passages, each once, headings and titles left out (a title glued to
    the front of a sentence is cut off it)."""
    seen: set[tuple[str, int]] = set()
    found: list[Sentence] = []
    for rank, passage in enumerate(passages):
        for position, (a, b) in enumerate(split_sentences(passage.text)):
            a += after_title(passage.text[a:b], passage.title)
            text = passage.text[a:b]
            key = (passage.doc_id, passage.start + a)
            if key in seen or len(text.split()) < MIN_WORDS or is_heading(text, passage.title):
                continue
            seen.add(key)
            found.append(Sentence(passage, passage.start + a, passage.start + b, text,
                                  rank=rank, position=position))
    return found


def score_sentences(
    question: str, sentences: list[Sentence], embedder: Embedder, idf: Callable[[str], float]
) -> list[Sentence]:
    """The sentences with their scores, best first."""
    if not sentences:
        return []
    dense = cosines(question, sentences, embedder)
    terms = {t: idf(t) for t in set(analyze(question))}
    total = sum(terms.values()) or 1.0
    scored = []
    for sentence, similarity in zip(sentences, dense, strict=True):
        words = set(analyze(sentence.text))
        lexical = sum(w for t, w in terms.items() if t in words) / total
        score = MEANING_SHARE * float(similarity) + (1 - MEANING_SHARE) * lexical
        scored.append(replace(sentence, score=round(score, 4)))
    return sorted(scored, key=lambda s: -s.score)


def select(scored: list[Sentence], threshold: float) -> list[Sentence]:
    """The best sentence if it clears the threshold, and close runners-up."""
    if not scored or scored[0].score < threshold:
        return []
    floor = max(threshold, scored[0].score - MARGIN)
    return [s for s in scored[:MAX_SENTENCES] if s.score >= floor]


def refuse(question: str, passages: list[Passage]) -> Answer:
    text = load_template("refusal").render(question=question.strip())
    return Answer(question, text, False, (), tuple(passages), reason="not_found")
