"""A bounded, thread-safe cache of text embeddings for the answerer and the verifier.

The sentences of retrieved passages recur from question to question; embedding each one once
instead of per question keeps answering fast. Queries are not cached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from index.embed import Embedder


class CachedEmbeddings:
    """Wraps an `Embedder`; `embed_documents` remembers up to `max_items` texts (LRU)."""

    def __init__(self, inner: Embedder, max_items: int = 50_000) -> None:
        self.inner, self.max_items, self.name = inner, max_items, inner.name
        self._vectors: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        known |= dict(zip(missing, self.inner.embed_documents(missing), strict=True))
        with self._lock:
            for text in dict.fromkeys(texts):
                self._vectors[text] = known[text]
                self._vectors.move_to_end(text)
            while len(self._vectors) > self.max_items:
                self._vectors.popitem(last=False)
        return [known[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)

    def count_tokens(self, texts: list[str]) -> list[int]:
        return self.inner.count_tokens(texts)
