"""The reader's first stage's features: each candidate sentence becomes a row of
SENTENCE_FEATURES (MiniLM cosine, idf-weighted coverage of the question's words, answer-type match,
question echo, its passage's retrieval rank and coverage, its position, its neighbours' coverage),
which the first stage's logistic regression (`qa.reader.Reader.sentence`) turns into a calibrated
probability that it answers.

    rows = sentence_features(question, candidates, dense, idf)
    p = reader.sentence.probabilities(rows)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from qa.answer_types import new_spans, question_type
from qa.lexical import STOPWORDS, analyze
from qa.reader.candidates import InPassage

SENTENCE_FEATURES = (
    "cos", "cos_gap", "cov", "cov_gap", "cov_plain", "bigrams", "echo", "novel", "length",
    "typed", "type_match", "type_new", "number_new", "name_new", "first", "position", "rank",
    "passage_cov", "prev_cov", "next_cov", "question_mark", "cos_x_cov", "typed_no_match",
)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Candidate:
    """One sentence as the reader sees it: its text, its passage's retrieval rank (0 = first), its
    index in the passage, the passage's text, and where the sentence starts in it
    (`passage_text[start:start + len(text)] == text`)."""

    text: str
    rank: int
    position: int
    passage_text: str
    start: int

    @property
    def in_passage(self) -> InPassage:
        return InPassage(self.passage_text, self.start, self.start + len(self.text))


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def sentence_features(question: str, candidates: Sequence[Candidate], dense: np.ndarray,
                      idf: Callable[[str], float]) -> np.ndarray:
    """One row of SENTENCE_FEATURES per candidate."""
    if not candidates:
        return np.zeros((0, len(SENTENCE_FEATURES)))
    q = _QuestionView.of(question, idf)
    analyzed = [set(analyze(c.text)) for c in candidates]
    cov = np.array([q.coverage(a) for a in analyzed])
    passage_cov = {text: q.coverage(set(analyze(text)))  # each passage analysed once
                   for text in dict.fromkeys(c.passage_text for c in candidates)}
    rows = [_row(q, c, a, float(s), cov, i, passage_cov[c.passage_text], candidates)
            for i, (c, a, s) in enumerate(zip(candidates, analyzed, dense, strict=True))]
    out = np.array(rows, dtype=float)
    out[:, 1] = out[:, 0] - out[:, 0].max()
    out[:, 3] = out[:, 2] - out[:, 2].max()
    return out


@dataclass(frozen=True)
class _QuestionView:
    terms: dict[str, float]
    total: float
    bigrams: frozenset[tuple[str, str]]
    plain: frozenset[str]
    kind: str

    @classmethod
    def of(cls, question: str, idf: Callable[[str], float]) -> _QuestionView:
        stems = analyze(question)
        terms = {t: idf(t) for t in set(stems)}
        pairs = frozenset(zip(stems, stems[1:], strict=False))
        return cls(terms, sum(terms.values()) or 1.0, pairs, frozenset(words(question)),
                   question_type(question))

    def coverage(self, analyzed: set[str]) -> float:
        return sum(w for t, w in self.terms.items() if t in analyzed) / self.total


def _row(q: _QuestionView, c: Candidate, analyzed: set[str], cos: float, cov: np.ndarray, i: int,
         passage_cov: float, candidates: Sequence[Candidate]) -> list[float]:
    stems = analyze(c.text)
    novel = [t for t in stems if t not in q.terms]
    bigrams = len(q.bigrams & set(zip(stems, stems[1:], strict=False))) / max(len(q.bigrams), 1)
    typed = q.kind != "none"
    typed_new = len(new_spans(c.text, q.kind, set(q.plain))) if typed else 0
    numbers = len(new_spans(c.text, "number", set(q.plain)))
    names = len(new_spans(c.text, "name", set(q.plain)))
    prev_cov, next_cov = _neighbour_cov(candidates, i, cov)
    plain = len(q.plain & set(words(c.text)) - STOPWORDS) / max(len(q.plain - STOPWORDS), 1)
    return [cos, 0.0, float(cov[i]), 0.0, plain, bigrams,
            1 - len(novel) / max(len(stems), 1), math.log1p(len(novel)),
            math.log1p(len(c.text.split())), float(typed), float(typed_new > 0),
            math.log1p(typed_new), math.log1p(numbers), math.log1p(names),
            float(c.position == 0), math.log1p(c.position), math.log1p(c.rank), passage_cov,
            prev_cov, next_cov, float(c.text.rstrip().endswith("?")), cos * float(cov[i]),
            float(typed and typed_new == 0)]


def _neighbour_cov(candidates: Sequence[Candidate], i: int, cov: np.ndarray) -> tuple[float, float]:
    """Coverage of the sentences just before and after candidate i in its passage (0 if none)."""
    here = candidates[i]
    before = after = 0.0
    for j in (i - 1, i + 1):
        if 0 <= j < len(candidates):
            other = candidates[j]
            if other.passage_text == here.passage_text:
                if other.position == here.position - 1:
                    before = float(cov[j])
                if other.position == here.position + 1:
                    after = float(cov[j])
    return before, after
