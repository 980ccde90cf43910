"""The span reader: a MiniLM fine-tuned (by `python -m qa.training.train_spans`) to read one
(question, sentence) pair and point at the answer inside the sentence, or at nothing. A model whose
manifest names `context_words` also reads that many words of the passage before the sentence (so
"He was born in 1856" can answer a question about Tesla), as `context [SEP] sentence`; it only ever
points inside the sentence.

For each sentence it gives `margin`, the best answer span's score minus the "no answer" score (the
[CLS] piece): above 0 the model thinks the sentence answers, and the span is the short answer. The
model is int8 ONNX (`qa/reader/weights/span_model/model_int8.onnx`), checked against the sha256 in
its manifest, and uses the embedder's own tokenizer. Each sentence is one model call (no padding;
as with the embedder, dynamic int8 quantization makes a call's output depend on what else is in
it).

    spans = load_span_model()
    text = "The agent was driving to Mexico City. Zapata was shot by the Zetas at a roadblock."
    scored = spans.read("Who shot Zapata?", [InPassage(text, 38, len(text))])
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

from qa.reader.candidates import InPassage, context_before

MODEL_DIR = Path(__file__).resolve().parent / "weights" / "span_model"
MODEL_FILE, MANIFEST_FILE = "model_int8.onnx", "manifest.json"
MAX_PIECES = 192  # question, context and sentence together, in word pieces
MAX_ANSWER_PIECES = 30  # the longest short answer, in word pieces
OTHER_SPANS = 20  # runners-up kept per sentence, for a short answer the best span isn't
# The question's share: its first 64 word pieces (training questions are shorter), so that a long
# question costs each read no more than a short one with its sentence.
MAX_QUESTION_PIECES = 64


@dataclass(frozen=True)
class SpanScore:
    """How much the model believes a sentence answers (`margin`: best span minus no answer, in
    logits) and the best span's character offsets in the sentence."""

    margin: float
    start: int
    end: int
    # the next best spans (start, end), best first: where the best is no answer to the question
    # (only its own words, or whom it names: `qa.reader.short`), the short answer may be one
    others: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Encoded:
    """A pair as word pieces: ids, segment ids (0 question, 1 context and sentence), character
    offsets into their own segment's text, and where the sentence starts in segment 1."""

    ids: list[int]
    types: list[int]
    offsets: list[tuple[int, int]]
    base: int


def encode_pair(tokenizer: Any, question: str, sentence: str, context: str = "") -> Encoded:
    """The pair as word pieces; the longer segment is cut to fit `MAX_PIECES`."""
    prefix = f"{context} [SEP] " if context else ""
    encoding = tokenizer.encode(question_head(tokenizer, question), prefix + sentence)
    return Encoded(list(encoding.ids), list(encoding.type_ids),
                   [tuple(o) for o in encoding.offsets], len(prefix))


def question_head(tokenizer: Any, question: str) -> str:
    """The question up to its `MAX_QUESTION_PIECES`th word piece (all of it when shorter)."""
    pieces = tokenizer.encode(question, add_special_tokens=False).offsets
    return question if len(pieces) <= MAX_QUESTION_PIECES else \
        question[:pieces[MAX_QUESTION_PIECES - 1][1]]


def tokenizer_for(source: Path) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=MAX_PIECES, strategy="longest_first")
    return tokenizer


def best_span(starts: np.ndarray, ends: np.ndarray, types: Sequence[int],
              offsets: Sequence[tuple[int, int]], base: int = 0) -> SpanScore:
    """The highest start + end score over spans of the sentence's pieces (at most
    MAX_ANSWER_PIECES long; the sentence starts at `base` in segment 1), against the no-answer
    score at [CLS]; offsets are into the sentence."""
    inside = np.array([t == 1 and b > a and a >= base
                       for t, (a, b) in zip(types, offsets, strict=True)])
    if not inside.any():
        return SpanScore(-100.0, 0, 0)
    s = np.where(inside, starts, -1e9)
    e = np.where(inside, ends, -1e9)
    grid = s[:, None] + e[None, :]
    n = len(s)
    band = np.triu(np.ones((n, n), dtype=bool)) & ~np.triu(np.ones((n, n), dtype=bool),
                                                           MAX_ANSWER_PIECES)
    grid = np.where(band, grid, -1e9)
    flat = grid.ravel()
    top = np.argpartition(-flat, min(OTHER_SPANS, flat.size - 1))[:OTHER_SPANS + 1]
    order = top[np.lexsort((top, -flat[top]))]  # best first; a tie goes to the first, as argmax
    found = [(int(i), int(j)) for i, j in zip(*np.unravel_index(order, grid.shape), strict=True)
             if grid[i, j] > -1e8]
    i, j = found[0]
    margin = float(grid[i, j] - (starts[0] + ends[0]))
    return SpanScore(margin, offsets[i][0] - base, offsets[j][1] - base,
                     tuple((offsets[a][0] - base, offsets[b][1] - base) for a, b in found[1:]))


class SpanModel:
    """The int8 span reader: `read(question, sentences)` gives one SpanScore per sentence, each
    read with the last `context_words` words (0: none) of its passage before it. `sha256` is the
    model file's, which the reader's gate records (a gate fits one span model)."""

    def __init__(self, model_file: Path, source: Path, threads: int = 2,
                 context_words: int = 0, sha256: str = "") -> None:
        from index.onnx_model import session

        self.tokenizer = tokenizer_for(source)
        self.session = session(model_file, threads)
        self.context_words = context_words
        self.sha256 = sha256

    def read(self, question: str, sentences: Sequence[InPassage]) -> list[SpanScore]:
        return [self._one(question, s.sentence, context_before(s.passage, s.start,
                                                               self.context_words))
                for s in sentences]

    def _one(self, question: str, sentence: str, context: str) -> SpanScore:
        pair = encode_pair(self.tokenizer, question, sentence, context)
        feed = {"input_ids": np.array([pair.ids], dtype=np.int64),
                "token_type_ids": np.array([pair.types], dtype=np.int64),
                "attention_mask": np.ones((1, len(pair.ids)), dtype=np.int64)}
        starts, ends = self.session.run(None, feed)
        return best_span(starts[0], ends[0], pair.types, pair.offsets, pair.base)


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
                             "it with `python -m qa.training.train_spans`")
    return SpanModel(model_file, model_path(), threads, int(manifest.get("context_words", 0)),
                     manifest["sha256"])
