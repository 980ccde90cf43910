"""Scores of one question and their summary: ranking, answer, refusal, citation and time.

Plain functions over plain data, shared by `python -m qa.measuring.eval` and its tests.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.metrics import normalize, token_f1

# An answer is `right` when it is given (not refused) and holds at least this share of a gold
# answer's words (`answer_recall`).
RIGHT_RECALL = 0.5
_MARKER = re.compile(r"(?<!\s)\s*\[\d+(?:\s*,\s*\d+)*\]")  # from a space run's start: linear


def best_f1_em(prediction: str, golds: Sequence[str]) -> tuple[float, float]:
    """Max token F1 and exact match against any gold answer; markers are removed first."""
    prediction = _MARKER.sub("", prediction)
    return (max((token_f1(prediction, g) for g in golds), default=0.0),
            max((float(normalize(prediction) == normalize(g)) for g in golds), default=0.0))


def answer_recall(prediction: str, golds: Sequence[str]) -> float:
    """The largest share of a gold answer's tokens (SQuAD-normalised) found in the prediction."""
    pred = Counter(normalize(_MARKER.sub("", prediction)).split())
    best = 0.0
    for gold in golds:
        true = Counter(normalize(gold).split())
        if true:
            best = max(best, sum((pred & true).values()) / sum(true.values()))
    return best


def has_gold(prediction: str, golds: Sequence[str]) -> float:
    """1.0 when the prediction holds a whole gold answer (SQuAD-normalised, word-aligned)."""
    text = f" {normalize(_MARKER.sub('', prediction))} "
    return float(any(g and f" {g} " in text for g in (normalize(x) for x in golds)))


def ranking(doc_ids: Sequence[str], gold: set[str], depth: int = 10) -> dict[str, float]:
    """recall@1/5/10 over the ranked chunks' documents (a hit: a chunk of a gold document), MRR@10
    and nDCG@10 with each gold document counted once, at its first chunk."""
    hits = [d in gold for d in doc_ids[:depth]]
    first = next((i for i, hit in enumerate(hits) if hit), None)
    seen: set[str] = set()
    gains = []
    for d in doc_ids[:depth]:
        gains.append(1.0 if d in gold and d not in seen else 0.0)
        seen.add(d)
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(gold), depth)))
    return {"recall@1": float(any(hits[:1])), "recall@5": float(any(hits[:5])),
            "recall@10": float(any(hits[:10])), "mrr@10": 0.0 if first is None else 1 / (first + 1),
            "ndcg@10": dcg / ideal if ideal else 0.0}


@dataclass(frozen=True)
class Outcome:
    """What one pipeline did with one question."""

    answerable: bool  # the truth
    refused: bool
    rank: dict[str, float]
    f1: float
    em: float
    citations: int
    citations_with_answer: int
    seconds: float
    recall: float = 0.0  # answer_recall of the answer text
    contains: float = 0.0  # has_gold of the answer text
    gold_retrieved: bool = False  # a passage of a gold article was retrieved


def summarize(outcomes: Sequence[Outcome]) -> dict[str, float | None]:
    """The metrics of a run, named as `python -m qa.measuring.eval --json` prints them."""
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    ranked = [o.rank for o in outcomes if o.rank]
    refused_right = sum(o.refused for o in unanswerable)
    refused_all = sum(o.refused for o in outcomes)
    precision = refused_right / refused_all if refused_all else 0.0
    recall = refused_right / len(unanswerable) if unanswerable else 0.0
    cited = sum(o.citations for o in answerable)
    times = np.array([o.seconds for o in outcomes]) * 1000
    out: dict[str, float | None] = {key: _mean([r[key] for r in ranked])
           for key in ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")}
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    out |= {
        "answer_f1": _mean([o.f1 for o in answerable]),
        "exact_match": _mean([o.em for o in answerable]),
        "right": _mean([float(not o.refused and o.recall >= RIGHT_RECALL) for o in answerable]),
        "answer_recall": _mean([o.recall for o in answerable]),
        "answer_has_gold": _mean([o.contains for o in answerable]),
        "answer_recall_retrieved": _mean([o.recall for o in answerable if o.gold_retrieved]),
        "answer_has_gold_retrieved": _mean([o.contains for o in answerable if o.gold_retrieved]),
        "answered": _mean([float(not o.refused) for o in answerable]),
        "refusal_precision": precision, "refusal_recall": recall, "refusal_f1": f1,
        "citation_support": (sum(o.citations_with_answer for o in answerable) / cited
                             if cited else 0.0),
        "latency_p50_ms": float(np.percentile(times, 50)) if len(times) else 0.0,
        "latency_p95_ms": float(np.percentile(times, 95)) if len(times) else 0.0,
        "questions": float(len(outcomes)),
    }
    if not unanswerable:  # nothing to refuse: the refusal scores don't apply
        out |= {"refusal_precision": None, "refusal_recall": None, "refusal_f1": None}
    return {k: None if v is None else round(v, 4) for k, v in out.items()}


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if values else 0.0
