"""Deterministic stand-ins for the embedding model, for tests about wiring, not quality."""

from __future__ import annotations

import hashlib
import math
import re

_TOKEN = re.compile(r"\w+|[^\w\s]")


class FakeEmbedder:
    """Bag-of-words vectors hashed into 64 dimensions; tokens are words and punctuation marks."""

    name = "fake-bag-of-words"
    dim = 64

    def __init__(self) -> None:
        self.calls = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(_TOKEN.findall(t)) for t in texts]

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self.dim
        for word in re.findall(r"\w+", text.lower()):
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]
