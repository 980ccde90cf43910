"""The reader's second stage: how much to trust the span model's reading of the first stage's best
sentences.

The span model (`qa.reader.spans`) reads the `top` sentences of the first stage, and a logistic
regression over GATE_FEATURES (the first stage's log-odds, the span model's margin and its gap to
the best margin) gives their final probabilities. Fitted by `qa.training.train_gate` (run by
`python -m qa.training.train_reader`) over one span model: `qa.reader.load_reader` refuses a gate
and a span model that were not fitted together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qa.reader.linear import Linear

GATE_FEATURES = ("logit", "margin", "margin_gap")


@dataclass(frozen=True)
class Gate:
    """The gate's model and thresholds: they replace the first stage's; `short_floor` is the
    margin under which no short answer is given, `read_floor` the first-stage probability under
    which a sentence (other than the best) is not read."""

    model: Linear
    top: int
    refuse_below: float
    caveat_below: float
    short_floor: float
    read_floor: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"features": GATE_FEATURES, "model": self.model.to_dict(), "top": self.top,
                "refuse_below": self.refuse_below, "caveat_below": self.caveat_below,
                "short_floor": self.short_floor, "read_floor": self.read_floor}

    def to_read(self, first: Sequence[float]) -> int:
        return sentences_to_read(first, self.top, self.read_floor)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Gate:
        if tuple(data["features"]) != GATE_FEATURES:
            raise ValueError("the reader's gate was trained on other features: retrain it with "
                             "`python -m qa.training.train_reader`")
        return cls(Linear.from_dict(data["model"]), int(data["top"]),
                   float(data["refuse_below"]), float(data["caveat_below"]),
                   float(data["short_floor"]), float(data.get("read_floor", 0.0)))

    def probabilities(self, first: np.ndarray, margins: np.ndarray) -> np.ndarray:
        return self.model.probabilities(gate_features(first, margins))


def sentences_to_read(first: Sequence[float], top: int, read_floor: float) -> int:
    """How many of the first stage's best sentences (probabilities `first`, best first) the span
    model reads: at most `top`, the best always, the others from `read_floor` up."""
    return min(1, len(first)) + sum(1 for p in first[1:top] if p >= read_floor)


def gate_features(first: np.ndarray, margins: np.ndarray) -> np.ndarray:
    """Rows of GATE_FEATURES from the first stage's probabilities and the span margins."""
    if first.size == 0:
        return np.zeros((0, len(GATE_FEATURES)))
    p = np.clip(first, 1e-6, 1 - 1e-6)
    return np.column_stack([np.log(p / (1 - p)), margins, margins - margins.max()])
