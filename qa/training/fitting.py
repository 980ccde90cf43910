"""Fitting shared by the reader's two stages (`qa.training.train_reader`,
`qa.training.train_gate`): a standardised logistic regression, and the refusal and caveat
thresholds chosen from held-out scores, each score a (best probability, the articles answer, the
best sentence is a gold one) triple."""

from __future__ import annotations

import numpy as np

from qa.reader import Linear


def fit_linear(rows: np.ndarray, labels: np.ndarray) -> Linear:
    from sklearn.linear_model import LogisticRegression

    mean, scale = rows.mean(axis=0), rows.std(axis=0) + 1e-6
    model = LogisticRegression(C=1.0, max_iter=2000).fit((rows - mean) / scale, labels)
    return Linear(mean, scale, model.coef_[0], float(model.intercept_[0]))


def choose_refusal(scores: list[tuple[float, bool, bool]]) -> tuple[float, dict[str, float]]:
    """The threshold with the best refusal F1 among those answering >= 90% of answerables."""
    best: tuple[float, float, dict[str, float]] = (-1.0, 0.0, {})
    for t in np.arange(0.02, 0.9, 0.01):
        stats = refusal_stats(scores, float(t))
        if stats["answered"] >= 0.9 and stats["refusal_f1"] > best[0]:
            best = (stats["refusal_f1"], float(t), stats)
    return round(best[1], 3), best[2]


def refusal_stats(scores: list[tuple[float, bool, bool]], t: float) -> dict[str, float]:
    refused_right = sum(p < t for p, answerable, _ in scores if not answerable)
    refused = sum(p < t for p, _, _ in scores)
    unanswerable = sum(not a for _, a, _ in scores) or 1
    answerable = [p >= t for p, a, _ in scores if a]
    precision = refused_right / refused if refused else 0.0
    recall = refused_right / unanswerable
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"refusal_precision": round(precision, 4), "refusal_recall": round(recall, 4),
            "refusal_f1": round(f1, 4), "answered": round(float(np.mean(answerable)), 4)}


def choose_caveat(scores: list[tuple[float, bool, bool]], refuse: float) -> float:
    """The probability above which 80% of held-out answers pick a gold sentence."""
    for t in np.arange(refuse, 0.95, 0.01):
        kept = [right for p, a, right in scores if a and p >= t]
        if kept and np.mean(kept) >= 0.8:
            return round(float(t), 3)
    return round(refuse + 0.2, 3)
