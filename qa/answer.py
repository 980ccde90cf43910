"""The extractive answerer: no LLM, an answer made of the retrieved sentences that answer best.

Each sentence of each retrieved passage is scored against the question by meaning (MiniLM cosine)
and by words (idf-weighted share of the question's content words it contains). The best ones form
the answer, each followed by its citation marker; below the threshold it refuses instead of
guessing. It does not retrieve; the retriever is passed in.

    result = answer(question, retriever, embedder, corpus.bm25.idf)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from langchain_core.runnables import Runnable

from index.embed import Embedder
from index.sentences import split_sentences
from qa.citations import cite
from qa.lexical import analyze
from qa.prompts import load_template
from qa.types import Answer, Passage

DENSE_WEIGHT = 0.5  # share of meaning vs words in a sentence's score
THRESHOLD = 0.45  # below this best score the articles are taken not to answer
MARGIN = 0.08  # a second sentence joins the answer when it scores within this of the best
MAX_SENTENCES = 2
MIN_WORDS = 4  # shorter "sentences" (headings, bylines) never answer


@dataclass(frozen=True)
class Sentence:
    """A candidate sentence: `text == article_text[start:end]`, inside `passage`."""

    passage: Passage
    start: int
    end: int
    text: str
    score: float = 0.0


def answer(
    question: str,
    retriever: Runnable[str, list[Passage]],
    embedder: Embedder,
    idf: Callable[[str], float],
    threshold: float = THRESHOLD,
) -> Answer:
    """Retrieve, score sentences, then answer with citations or refuse."""
    passages = retriever.invoke(question)
    scored = score_sentences(question, candidates(passages), embedder, idf)
    chosen = select(scored, threshold)
    if not chosen:
        return refuse(question, passages)
    text, citations = cite(chosen)
    return Answer(question, text, True, tuple(citations), tuple(passages))


def candidates(passages: list[Passage]) -> list[Sentence]:
    """The sentences of the passages, each once (overlapping chunks share sentences)."""
    seen: set[tuple[str, int]] = set()
    found: list[Sentence] = []
    for passage in passages:
        for a, b in split_sentences(passage.text):
            text = passage.text[a:b]
            key = (passage.doc_id, passage.start + a)
            if key not in seen and len(text.split()) >= MIN_WORDS:
                seen.add(key)
                found.append(Sentence(passage, passage.start + a, passage.start + b, text))
    return found


def score_sentences(
    question: str, sentences: list[Sentence], embedder: Embedder, idf: Callable[[str], float]
) -> list[Sentence]:
    """The sentences with their scores, best first."""
    if not sentences:
        return []
    query = np.array(embedder.embed_query(question))
    vectors = np.array(embedder.embed_documents([s.text for s in sentences]))
    dense = vectors @ query
    terms = {t: idf(t) for t in set(analyze(question))}
    total = sum(terms.values()) or 1.0
    scored = []
    for sentence, similarity in zip(sentences, dense, strict=True):
        words = set(analyze(sentence.text))
        lexical = sum(w for t, w in terms.items() if t in words) / total
        score = DENSE_WEIGHT * float(similarity) + (1 - DENSE_WEIGHT) * lexical
        scored.append(Sentence(sentence.passage, sentence.start, sentence.end, sentence.text,
                               round(score, 4)))
    return sorted(scored, key=lambda s: -s.score)


def select(scored: list[Sentence], threshold: float) -> list[Sentence]:
    """The best sentence if it clears the threshold, and close runners-up."""
    if not scored or scored[0].score < threshold:
        return []
    floor = max(threshold, scored[0].score - MARGIN)
    return [s for s in scored[:MAX_SENTENCES] if s.score >= floor]


def refuse(question: str, passages: list[Passage]) -> Answer:
    text = load_template("refusal").render(question=question.strip())
    return Answer(question, text, False, (), tuple(passages))
