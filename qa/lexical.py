"""Lexical matching: an analyzer (words, stop words, Snowball stems) and a BM25 index over it.

Scores are precomputed per (chunk, term) in a sparse matrix, so a query sums a few columns. It does
not read the store; callers hand it texts.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

import numpy as np
from scipy import sparse

# The BM25 analyzer's stop list: English function words, left out of indexing and queries.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over
    own same she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself yourselves s t don didn doesn isn wasn weren
    also many much may might must shall us""".split()
)
_WORD = re.compile(r"\w+")


@lru_cache(maxsize=1)
def _stemmer() -> object:
    import Stemmer

    return Stemmer.Stemmer("english")


def analyze(text: str) -> list[str]:
    """Lower-cased, stemmed content words of `text`, in order."""
    words = [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]
    return list(_stemmer().stemWords(words))  # type: ignore[attr-defined]


class BM25:
    """Okapi BM25 (Lucene idf) over analyzed texts."""

    def __init__(self, texts: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        docs = [Counter(analyze(t)) for t in texts]
        self.vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        counts: list[int] = []
        for row, terms in enumerate(docs):
            for term, count in terms.items():
                rows.append(row)
                cols.append(self.vocab.setdefault(term, len(self.vocab)))
                counts.append(count)
        self.size = len(texts)
        lengths = np.array([sum(c.values()) for c in docs], dtype=np.float32)
        df = np.bincount(np.array(cols, dtype=np.int64), minlength=len(self.vocab))
        self._idf = np.log1p((self.size - df + 0.5) / (df + 0.5)).astype(np.float32)
        tf = np.array(counts, dtype=np.float32)
        mean_length = max(float(lengths.mean()) if self.size else 1.0, 1.0)
        norm = k1 * (1 - b + b * lengths[rows] / mean_length)
        weights = self._idf[cols] * tf * (k1 + 1) / (tf + norm)
        shape = (self.size, len(self.vocab))
        self.matrix = sparse.csc_matrix((weights, (rows, cols)), shape=shape, dtype=np.float32)

    def idf(self, term: str) -> float:
        """The idf of an analyzed term; an unseen term gets the largest idf."""
        index = self.vocab.get(term)
        return float(self._idf[index]) if index is not None else math.log1p(self.size + 0.5)

    def scores(self, query: str) -> np.ndarray:
        columns = sorted({self.vocab[t] for t in analyze(query) if t in self.vocab})
        if not columns:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.matrix[:, columns].sum(axis=1)).ravel()

    def top(self, query: str, n: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Indices and scores of the best `n` texts with a positive score, among `allowed`."""
        scores = self.scores(query)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        n = min(n, int(np.count_nonzero(scores > 0)))
        if n == 0:
            return []
        best = np.argpartition(-scores, n - 1)[:n]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(int(i), float(scores[i])) for i in best]
