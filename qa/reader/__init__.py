"""The learned reader: how likely each retrieved sentence is to answer the question, and the short
answer inside the best one. What answering runs, one small module each:

- `candidates`: which sentences of a passage are read, and the words before each (by offset), the
  same in answering and in training;
- `features`: the first stage's rows of SENTENCE_FEATURES, one per candidate sentence;
- `linear`: the logistic regression both stages use;
- `spans`: the span model (int8 ONNX), which reads a sentence and points at its answer;
- `gate`: the second stage, the first stage's best sentences re-scored from the span model's
  reading of them.

Trained by `python -m qa.training.train_spans` (the span model) and `python -m
qa.training.train_reader` (the first stage and the gate); the weights are `qa/reader/weights/`,
each checked against the sha256 in its manifest, and a gate loads only with the span model it was
fitted over.

    reader = load_reader()
    p = reader.sentence.probabilities(sentence_features(question, candidates, dense, idf))
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qa.reader.candidates import (
    MIN_WORDS,
    InPassage,
    SentenceSpan,
    candidate_sentences,
    context_before,
)
from qa.reader.features import SENTENCE_FEATURES, Candidate, sentence_features
from qa.reader.gate import GATE_FEATURES, Gate, gate_features, sentences_to_read
from qa.reader.linear import Linear
from qa.reader.spans import MANIFEST_FILE, SpanModel, SpanModelError, load_span_model
from qa.reader.spans import MODEL_DIR as SPAN_MODEL_DIR

__all__ = [
    "GATE_FEATURES", "MANIFEST", "MIN_WORDS", "SENTENCE_FEATURES", "SPAN_MODEL_DIR", "WEIGHTS",
    "Candidate", "Gate", "InPassage", "Linear", "Reader", "SentenceSpan", "ShortAnswer",
    "SpanModel", "SpanModelError", "candidate_sentences", "context_before", "gate_features",
    "load_reader", "sentence_features", "sentences_to_read",
]
WEIGHTS = Path(__file__).resolve().parent / "weights" / "reader.json"
MANIFEST = WEIGHTS.parent / "reader.manifest.json"
RETRAIN = "`python -m qa.training.train_reader`"
ShortAnswer = Callable[[str, str], str | None]  # (question, sentence) -> a short answer


@dataclass(frozen=True)
class Reader:
    """The first stage (`sentence`) and its thresholds chosen on held-out training data: below
    `refuse_below` the articles are taken not to answer; below `caveat_below` they may only partly
    answer. With a `gate` (and its span model, `spans`), the gate's probabilities and thresholds
    decide, and the span model gives the short answer; without one, `short` does (None: no short
    answer). `first_spans` is the part of the weights answering does not read (the first stage's
    own short-answer scorer, a baseline: `qa.measuring.baselines.SpanScorer`), kept as stored."""

    sentence: Linear
    refuse_below: float
    caveat_below: float
    gate: Gate | None = None
    dense: bool = True  # whether the first stage reads MiniLM cosines (False: they are 0)
    spans: SpanModel | None = None  # the span model the gate reads with (not part of the weights)
    first_spans: dict[str, Any] = field(default_factory=dict)
    short: ShortAnswer | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"sentence_features": SENTENCE_FEATURES, "sentence": self.sentence.to_dict(),
               "refuse_below": self.refuse_below, "caveat_below": self.caveat_below,
               "dense": self.dense}
        return out | self.first_spans | ({"gate": self.gate.to_dict()} if self.gate else {})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reader:
        if tuple(data["sentence_features"]) != SENTENCE_FEATURES:
            raise ValueError(f"reader weights were trained on other features: retrain them with "
                             f"{RETRAIN}")
        gate = Gate.from_dict(data["gate"]) if data.get("gate") else None
        first_spans: dict[str, Any] = {k: data[k] for k in ("span_features", "span", "span_floor")
                                       if k in data}
        return cls(Linear.from_dict(data["sentence"]), float(data["refuse_below"]),
                   float(data["caveat_below"]), gate, bool(data.get("dense", True)),
                   first_spans=first_spans)

    @property
    def thresholds(self) -> tuple[float, float]:
        """(refuse below, caveat below) of whichever stage decides."""
        if self.gate and self.spans:
            return self.gate.refuse_below, self.gate.caveat_below
        return self.refuse_below, self.caveat_below


def load_reader(path: Path = WEIGHTS, manifest: Path = MANIFEST,
                span_folder: Path = SPAN_MODEL_DIR) -> Reader:
    """The shipped reader, its bytes checked against the sha256 in the manifest, with the span
    model its gate reads with: the one the manifest records the gate was fitted over."""
    raw = path.read_bytes()
    recorded = json.loads(manifest.read_text(encoding="utf-8"))
    if hashlib.sha256(raw).hexdigest() != recorded["sha256"]:
        raise ValueError(f"{path} does not match the sha256 in {manifest}: retrain it with "
                         f"{RETRAIN}")
    reader = Reader.from_dict(json.loads(raw))
    if reader.gate is None:
        return reader
    check_pair(recorded, span_folder)
    spans = load_span_model(span_folder)
    if spans is None:
        raise SpanModelError(f"the reader's gate needs the span model ({span_folder}); rebuild "
                             "it with `python -m qa.training.train_spans`")
    return replace(reader, spans=spans)


def check_pair(recorded: dict[str, Any], span_folder: Path) -> None:
    """SpanModelError unless the span model in `span_folder` is the one the gate was fitted over
    (the sha256 that the reader's manifest records for it): a gate calibrated on another span
    model's margins would answer and refuse at the wrong places."""
    fitted_over = recorded.get("gate", {}).get("span_model_sha256")
    span_manifest = span_folder / MANIFEST_FILE
    shipped = json.loads(span_manifest.read_text(encoding="utf-8"))["sha256"] \
        if span_manifest.is_file() else None
    if shipped is not None and fitted_over != shipped:
        which = f"another span model (sha256 {fitted_over[:12]}...)" if fitted_over else \
            "a span model its manifest does not name"
        raise SpanModelError(f"the reader's gate was fitted over {which}, not the one in "
                             f"{span_folder} (sha256 {shipped[:12]}...): retrain the gate over "
                             f"this one with {RETRAIN}")
