"""The reader's second stage (`qa.reader.Gate`), fitted by `python -m qa.training.train_reader` on
its held-out questions only (the span model never saw them: see `qa.training.train_spans`).

The held-out questions are split in two by paragraph: the gate's logistic regression is fitted on
one half, and its thresholds (refuse, caveat, short-answer floor) chosen on the other, which also
gives the figures in the manifest.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from qa.metrics import token_f1
from qa.reader import Gate, Linear, gate_features, sentences_to_read
from qa.training.fitting import choose_caveat, choose_refusal, fit_linear, refusal_stats

# First-stage sentences the span model reads per question: at most TOP, the best always, the
# others only above READ_FLOOR. Chosen on the held-out questions for time: read 8 (7.99 per
# question), 6 above 0.01 (3.97) or 3 (3.00), the gate's top-1 (0.736-0.742) and refusal F1
# (0.766-0.776) stayed within noise of each other.
TOP, READ_FLOOR = 6, 0.01


def gate_items(held: list[dict[str, Any]], first: Linear, spans: Any, top: int = TOP,
               read_floor: float = READ_FLOOR) -> list[dict[str, Any]]:
    """Per held-out question: the first-stage sentences the span model reads, their first-stage
    probabilities, span margins, short answers and labels."""
    out = []
    for item in held:
        p = first.probabilities(item["rows"])
        order = np.argsort(-p, kind="stable")
        order = order[:sentences_to_read(p[order].tolist(), top, read_floor)]
        chosen = [item["candidates"][i] for i in order]
        texts = [c.text for c in chosen]
        read = spans.read(item["example"].question, [c.in_passage for c in chosen])
        out.append({"example": item["example"], "first": p[order],
                    "margins": np.array([s.margin for s in read]),
                    "labels": np.asarray(item["labels"])[order],
                    "shorts": [t[s.start:s.end].strip() for t, s in zip(texts, read, strict=True)],
                    "texts": texts})
    return out


def halves(items: list[dict[str, Any]], seed: int) -> tuple[list[Any], list[Any]]:
    groups = sorted({i["example"].group for i in items})
    fit_groups = set(random.Random(seed).sample(groups, len(groups) // 2))
    return ([i for i in items if i["example"].group in fit_groups],
            [i for i in items if i["example"].group not in fit_groups])


def fit_gate_model(items: list[dict[str, Any]]) -> Linear:
    rows = np.vstack([gate_features(i["first"], i["margins"]) for i in items])
    return fit_linear(rows, np.concatenate([i["labels"] for i in items]))


def gate_scores(items: list[dict[str, Any]], model: Linear) -> list[tuple[float, bool, bool]]:
    """(best gate probability, the articles answer, the best sentence is a gold one)."""
    out = []
    for i in items:
        p = model.probabilities(gate_features(i["first"], i["margins"]))
        best = int(np.argmax(p))
        out.append((float(p[best]), i["example"].gold is not None, bool(i["labels"][best])))
    return out


def short_f1(items: list[dict[str, Any]], model: Linear, floor: float) -> float:
    """Mean F1 of what the answer's short form would be (the span above `floor`, else the whole
    best sentence) against the gold answers, over answerable questions."""
    f1s = []
    for i in items:
        if i["example"].gold is None:
            continue
        best = int(np.argmax(model.probabilities(gate_features(i["first"], i["margins"]))))
        shown = i["shorts"][best] if i["margins"][best] >= floor else i["texts"][best]
        f1s.append(max(token_f1(shown, g) for g in i["example"].answers))
    return float(np.mean(f1s)) if f1s else 0.0


def fit_gate(held: list[dict[str, Any]], first: Linear, spans: Any,
             seed: int) -> tuple[Gate, dict[str, Any]]:
    """The gate and its figures on the half it was not fitted on."""
    fit_half, choose_half = halves(gate_items(held, first, spans), seed)
    model = fit_gate_model(fit_half)
    scores = gate_scores(choose_half, model)
    refuse = choose_refusal(scores)[0]
    floor = max(np.arange(-6.0, 6.01, 0.5), key=lambda f: short_f1(choose_half, model, float(f)))
    gate = Gate(model, TOP, refuse, choose_caveat(scores, refuse), round(float(floor), 2),
                READ_FLOOR)
    first_scores = [(float(i["first"][0]), i["example"].gold is not None, bool(i["labels"][0]))
                    for i in choose_half]
    return gate, {"questions": len(choose_half), **summary(scores, refuse),
                  "short_f1": round(short_f1(choose_half, model, gate.short_floor), 4),
                  "first_stage_alone": summary(first_scores, choose_refusal(first_scores)[0])}


def summary(scores: list[tuple[float, bool, bool]], refuse: float) -> dict[str, float]:
    top1 = float(np.mean([right for _, a, right in scores if a]))
    return {"top1": round(top1, 4), "refuse_below": refuse, **refusal_stats(scores, refuse)}
