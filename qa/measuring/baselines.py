"""What the eval compares ours with, kept apart from answering (nothing in qa/ outside
`qa.measuring` and `qa.training` may import it):

- `answer_heuristic`: the answerer before the reader (a fixed mix of cosine and word coverage, one
  threshold), the "before" pipeline of `python -m qa.measuring.eval`;
- `first_stage_reader`: the reader without its gate, its short answer from the first stage's own
  span scorer (`SpanScorer`, a logistic regression over SPAN_FEATURES of the candidate spans, the
  "span" part of `qa/reader/weights/reader.json`): the eval's "first" pipeline;
- `Trees`: gradient-boosted trees, which `python -m qa.training.train_reader` fits beside the
  shipped logistic regression to compare them on held-out questions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from langchain_core.runnables import Runnable

from index.embed import Embedder
from qa.answer_types import TYPES, new_spans, question_type
from qa.answerers.extractive import (
    MAX_SENTENCES,
    Sentence,
    candidates,
    cosines,
    default_reader,
    refuse,
)
from qa.answerers.extractive import answer as answer  # the reader's, which baselines are beside
from qa.citations import cite
from qa.lexical import STOPWORDS, analyze
from qa.reader import Linear, Reader
from qa.reader.features import words
from qa.types import Answer, Passage

MEANING_SHARE = 0.5  # share of meaning vs words in a sentence's score
THRESHOLD = 0.45  # below this best score the articles are taken not to answer
MARGIN = 0.08  # a second sentence joins the answer when it scores within this of the best


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


@dataclass(frozen=True)
class Trees:
    """Gradient-boosted trees, all nodes in flat arrays: a row goes left at a node when its
    `feature` is <= `threshold` (a missing value goes where `missing_left` says), and the trees'
    leaf values are summed onto `baseline` into a log-odds."""

    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    leaf: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    depth: int
    baseline: float

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        if rows.size == 0:
            return np.zeros(0)
        at = np.repeat(self.roots[None, :], len(rows), axis=0)
        line = np.arange(len(rows))[:, None]
        for _ in range(self.depth):
            x = rows[line, self.feature[at]]
            left = np.where(np.isnan(x), self.missing_left[at], x <= self.threshold[at])
            at = np.where(self.leaf[at], at, np.where(left, self.left[at], self.right[at]))
        z = self.baseline + self.value[at].sum(axis=1)
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -30, 30))))

    def to_dict(self) -> dict[str, Any]:
        arrays = {name: getattr(self, name).tolist() for name in _TREE_ARRAYS}
        return {"kind": "trees", **arrays, "depth": self.depth, "baseline": self.baseline}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trees:
        kinds = {"feature": int, "missing_left": bool, "left": int, "right": int, "leaf": bool,
                 "roots": int, "threshold": float, "value": float}
        arrays: dict[str, Any] = {name: np.array(data[name], dtype=kinds[name])
                                  for name in _TREE_ARRAYS}
        return cls(**arrays, depth=int(data["depth"]), baseline=float(data["baseline"]))


_TREE_ARRAYS = ("feature", "threshold", "missing_left", "left", "right", "leaf", "value", "roots")


SPAN_FEATURES = (
    "typed", "type_match", "capital", "digit", "length", "log_length", "distance", "after",
    "before", "start", "paren", "comma_before", "comma_after", "stop_edge", "share",
    "left_q", "right_q", "near_q", "wh_noun_near", "cue_before", "capital_share", "stop_share",
    "is_name", "is_number", "is_date",
)
_CUES = ("called", "named", "known as", "as", "is", "was", "were", "are", "by", "of", "include",
         "including", "such as", "to", "from", "in")
_WH_NOUN = re.compile(r"\b(?:what|which|whose|how many|how much)\s+(?:\w+\s+)?(\w+)", re.I)
MAX_SPAN_WORDS = 10


@dataclass(frozen=True)
class Span:
    """A candidate short answer: `sentence[start:end]`."""

    start: int
    end: int
    text: str


def span_candidates(question: str, sentence: str) -> list[Span]:
    """Typed spans (names, dates, places, numbers the question lacks) and the runs of words
    between the question's own words, trimmed of stop words at both ends."""
    qwords = set(words(question))
    spans = {span for kind in TYPES[:-1] for span in new_spans(sentence, kind, qwords)}
    spans |= _runs(sentence, qwords)
    out = [Span(a, b, sentence[a:b]) for a, b in sorted(spans)]
    return [s for s in out if 0 < len(s.text.split()) <= MAX_SPAN_WORDS]


# A token is a word with the ' ’ . % $ € £ - inside and before it (and ' ’ % - after its last letter
# or digit), or a punctuation mark that breaks a run. Once one pattern, "[\w'’.%$€£-]*\w[\w'’%-]*",
# whose backtracking made a run without letters quadratic (20,000 dashes: 4.7 s); now each maximal
# run of those characters is matched once and cut after its last letter or digit, in code.
_RUN = re.compile(r"[\w'’.%$€£-]+|[,;:()\[\]\"“”]")
_LETTER = re.compile(r"\w")
_BREAKS = frozenset(",;:()[]\"“”")
Token = tuple[int, int, str]  # start, end, the token's text


def tokens(sentence: str) -> list[Token]:
    """The sentence's tokens, in order, in linear time."""
    found = []
    for m in _RUN.finditer(sentence):
        run = m.group()
        if run in _BREAKS:
            found.append((m.start(), m.end(), run))
            continue
        last = _LETTER.search(run[::-1])  # the run's last letter or digit
        if last is not None:
            end = len(run) - last.start()
            while end < len(run) and run[end] in "'’%-":
                end += 1
            found.append((m.start(), m.start() + end, run[:end]))
    return found


def _runs(sentence: str, qwords: set[str]) -> set[tuple[int, int]]:
    """Maximal runs of tokens that are neither the question's words nor punctuation, trimmed of
    stop words at the ends; runs over MAX_SPAN_WORDS are cut into their clauses only."""
    runs: set[tuple[int, int]] = set()
    current: list[Token] = []
    for token in [*tokens(sentence), None]:
        text = token[2].lower() if token else ""
        if token is None or text in _BREAKS or text in qwords:
            trimmed = _trim(current)
            if trimmed:
                runs.add((trimmed[0][0], trimmed[-1][1]))
            current = []
        else:
            current.append(token)
    return runs


def _trim(found: list[Token]) -> list[Token]:
    start, end = 0, len(found)
    while start < end and found[start][2].lower() in STOPWORDS:
        start += 1
    while end > start and found[end - 1][2].lower() in STOPWORDS:
        end -= 1
    return found[start:end]


def span_features(question: str, sentence: str, spans: Sequence[Span]) -> np.ndarray:
    """One row of SPAN_FEATURES per candidate span of `sentence`."""
    if not spans:
        return np.zeros((0, len(SPAN_FEATURES)))
    view = _SpanView.of(question, sentence)
    return np.array([_span_row(s, sentence, view) for s in spans], dtype=float)


@dataclass(frozen=True)
class _SpanView:
    """What every span of one sentence is compared with: the question's kind and words, where
    they occur in the sentence, and the sentence's typed spans."""

    kind: str
    qwords: frozenset[str]
    hits: tuple[int, ...]
    tokens: tuple[tuple[int, int, str], ...]
    typed: frozenset[tuple[int, int]]
    by_kind: dict[str, frozenset[tuple[int, int]]]
    wh_noun: str

    @classmethod
    def of(cls, question: str, sentence: str) -> _SpanView:
        qwords = frozenset(words(question))
        kind = question_type(question)
        lowered = tuple((a, b, t.lower()) for a, b, t in tokens(sentence))
        hits = tuple(a for a, _, t in lowered if t in qwords - STOPWORDS)
        by_kind = {k: frozenset(new_spans(sentence, k, set(qwords)))
                   for k in ("name", "number", "date")}
        typed = frozenset(new_spans(sentence, kind, set(qwords))) if kind != "none" else frozenset()
        noun = _WH_NOUN.search(question)
        wh_noun = noun.group(1).lower() if noun else ""
        return cls(kind, qwords, hits, lowered, typed, by_kind, wh_noun)


def _span_row(s: Span, sentence: str, v: _SpanView) -> list[float]:
    tokens = s.text.split()
    hits = v.hits
    distance = min((abs(h - s.start) if h < s.start else abs(h - s.end) for h in hits),
                   default=len(sentence))
    before_text = sentence[:s.start].rstrip()
    after_text = sentence[s.end:].lstrip()
    left = [t for a, b, t in v.tokens if b <= s.start][-4:]
    right = [t for a, b, t in v.tokens if a >= s.end][:4]
    near = sum(t in v.qwords - STOPWORDS for t in left + right)
    lowered = [t.lower().strip(".,") for t in tokens]
    return [float(v.kind != "none"), float((s.start, s.end) in v.typed),
            float(s.text[:1].isupper() and s.start > 0), float(any(ch.isdigit() for ch in s.text)),
            float(len(tokens)), math.log1p(len(tokens)), math.log1p(distance / 5),
            float(any(h < s.start for h in hits)), float(any(h >= s.end for h in hits)),
            float(s.start == 0), float(before_text.endswith("(")), float(before_text.endswith(",")),
            float(after_text.startswith(",")), float(lowered[0] in STOPWORDS),
            len(s.text) / max(len(sentence), 1),
            float(bool(left) and left[-1] in v.qwords), float(bool(right) and right[0] in v.qwords),
            math.log1p(near), float(bool(v.wh_noun) and v.wh_noun in left[-3:] + right[:3]),
            float(before_text.lower().endswith(_CUES)),
            sum(t[:1].isupper() for t in tokens) / len(tokens),
            sum(t in STOPWORDS for t in lowered) / len(tokens),
            *(float(any(a <= s.start and s.end <= b or (s.start, s.end) == (a, b)
                        for a, b in v.by_kind[k])) for k in ("name", "number", "date"))]




@dataclass(frozen=True)
class SpanScorer:
    """The first stage's own short-answer scorer: the best-scoring candidate span of a sentence,
    or None when none scores above `floor`. When the question asks for a kind (who, when, how
    many, ...) and the sentence holds spans of that kind, the best of those is taken (held out, on
    the gold sentence: short F1 0.398 -> 0.406)."""

    model: Linear
    floor: float = 0.2

    def __call__(self, question: str, sentence: str) -> str | None:
        spans = span_candidates(question, sentence)
        if not spans:
            return None
        rows = span_features(question, sentence, spans)
        p = self.model.probabilities(rows)
        typed = rows[:, SPAN_FEATURES.index("type_match")] == 1
        best = int(np.argmax(np.where(typed, p, -1.0) if typed.any() else p))
        return spans[best].text if p[best] >= self.floor else None

    def to_dict(self) -> dict[str, Any]:
        """The part of the reader's weights it is stored as (`Reader.first_spans`)."""
        return {"span_features": SPAN_FEATURES, "span": self.model.to_dict(),
                "span_floor": self.floor}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpanScorer:
        if tuple(data["span_features"]) != SPAN_FEATURES:
            raise ValueError("the first stage's span scorer was trained on other features: "
                             "retrain it with `python -m qa.training.train_reader`")
        return cls(Linear.from_dict(data["span"]), float(data.get("span_floor", 0.2)))


def first_stage_reader(reader: Reader | None = None) -> Reader:
    """The shipped reader (or `reader`) without its gate, its short answers from the first
    stage's span scorer: the reader as it was before the span model."""
    reader = reader or default_reader()
    scorer = SpanScorer.from_dict(reader.first_spans) if reader.first_spans else None
    return replace(reader, gate=None, spans=None, short=scorer)
