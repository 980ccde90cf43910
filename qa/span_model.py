"""The span reader: a MiniLM fine-tuned (by `python -m qa.train_spans`) to read one (question,
sentence) pair and point at the answer inside the sentence, or at nothing.

For each sentence it gives `margin`, the best answer span's score minus the "no answer" score (the
[CLS] piece): above 0 the model thinks the sentence answers, and the span is the short answer. The
model is int8 ONNX (`qa/span_model/model_int8.onnx`), checked against the sha256 in its manifest,
and uses the embedder's own tokenizer. Each sentence is one model call (no padding; as with the
embedder, dynamic int8 quantization makes a call's output depend on what else is in it).

    spans = load_span_model()
    scored = spans.read("Who shot Zapata?", ["Zapata was shot by the Zetas at a roadblock."])
    scored[0].margin, scored[0].start, scored[0].end
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MODEL_DIR = Path(__file__).resolve().parent / "span_model"
MODEL_FILE, MANIFEST_FILE = "model_int8.onnx", "manifest.json"
MAX_PIECES = 128  # question and sentence together, in word pieces
MAX_ANSWER_PIECES = 30  # the longest short answer, in word pieces


@dataclass(frozen=True)
class SpanScore:
    """How much the model believes a sentence answers (`margin`: best span minus no answer, in
    logits) and the best span's character offsets in the sentence."""

    margin: float
    start: int
    end: int


def encode_pair(tokenizer: Any, question: str,
                sentence: str) -> tuple[list[int], list[int], list[tuple[int, int]]]:
    """Word-piece ids, segment ids (0 question, 1 sentence) and per-piece character offsets into
    their own text; the longer of the two is cut to fit `MAX_PIECES`."""
    encoding = tokenizer.encode(question, sentence)
    return list(encoding.ids), list(encoding.type_ids), [tuple(o) for o in encoding.offsets]


def tokenizer_for(source: Path) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=MAX_PIECES, strategy="longest_first")
    return tokenizer


def best_span(starts: np.ndarray, ends: np.ndarray, types: Sequence[int],
              offsets: Sequence[tuple[int, int]]) -> SpanScore:
    """The highest start + end score over spans of the sentence's pieces (at most
    MAX_ANSWER_PIECES long), against the no-answer score at [CLS]."""
    inside = np.array([t == 1 and b > a for t, (a, b) in zip(types, offsets, strict=True)])
    if not inside.any():
        return SpanScore(-100.0, 0, 0)
    s = np.where(inside, starts, -1e9)
    e = np.where(inside, ends, -1e9)
    grid = s[:, None] + e[None, :]
    n = len(s)
    band = np.triu(np.ones((n, n), dtype=bool)) & ~np.triu(np.ones((n, n), dtype=bool),
                                                           MAX_ANSWER_PIECES)
    grid = np.where(band, grid, -1e9)
    i, j = (int(x) for x in np.unravel_index(int(np.argmax(grid)), grid.shape))
    margin = float(grid[i, j] - (starts[0] + ends[0]))
    return SpanScore(margin, offsets[i][0], offsets[j][1])


class SpanModel:
    """The int8 span reader: `read(question, sentences)` gives one SpanScore per sentence."""

    def __init__(self, model_file: Path, source: Path, threads: int = 2) -> None:
        from index.onnx_model import session

        self.tokenizer = tokenizer_for(source)
        self.session = session(model_file, threads)

    def read(self, question: str, sentences: Sequence[str]) -> list[SpanScore]:
        return [self._one(question, s) for s in sentences]

    def _one(self, question: str, sentence: str) -> SpanScore:
        ids, types, offsets = encode_pair(self.tokenizer, question, sentence)
        feed = {"input_ids": np.array([ids], dtype=np.int64),
                "token_type_ids": np.array([types], dtype=np.int64),
                "attention_mask": np.ones((1, len(ids)), dtype=np.int64)}
        starts, ends = self.session.run(None, feed)
        return best_span(starts[0], ends[0], types, offsets)


class SpanModelError(RuntimeError):
    pass


def load_span_model(folder: Path = MODEL_DIR, threads: int = 2) -> SpanModel | None:
    """The shipped span reader, checked against its manifest; None where none is shipped."""
    from index.model import model_path

    model_file = folder / MODEL_FILE
    if not model_file.is_file():
        return None
    manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    if hashlib.sha256(model_file.read_bytes()).hexdigest() != manifest["sha256"]:
        raise SpanModelError(f"{model_file} does not match the sha256 in its manifest; rebuild "
                             "it with `python -m qa.train_spans`")
    return SpanModel(model_file, model_path(), threads)
