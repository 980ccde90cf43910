"""Hybrid retrieval as LangChain runnables: dense (Chroma) and BM25, fused by reciprocal rank.

    retriever = hybrid_retriever(store, corpus, embedder, k=5, filters=Filters(date_from="2010"))
    passages = retriever.invoke("who was killed at the roadblock?")

It does not answer; `qa.answer` turns passages into an answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda, RunnableParallel

from index.embed import Embedder
from index.load import date_number
from index.store import CHUNKS, Store
from qa.lexical import BM25
from qa.types import Passage

RRF_K = 60  # the usual constant of reciprocal rank fusion
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


class FilterError(ValueError):
    """A filter value that can't be used; the message says which and what is allowed."""


@dataclass(frozen=True)
class Filters:
    """Keep passages from these sources (source path/url or doc_id) and dates (inclusive)."""

    sources: tuple[str, ...] = ()
    date_from: str = ""
    date_to: str = ""

    @cached_property
    def _bounds(self) -> tuple[int | None, int | None]:
        return self.bounds()

    def bounds(self) -> tuple[int | None, int | None]:
        return _date_bound(self.date_from, "date_from", low=True), _date_bound(
            self.date_to, "date_to", low=False)

    def where(self) -> dict[str, Any] | None:
        """The same filter as a Chroma `where` clause."""
        clauses: list[dict[str, Any]] = []
        if self.sources:
            clauses.append({"$or": [{"source": {"$in": list(self.sources)}},
                                    {"doc_id": {"$in": list(self.sources)}}]})
        low, high = self.bounds()
        if low is not None:
            clauses.append({"date_num": {"$gte": low}})
        if high is not None:
            clauses.append({"date_num": {"$lte": high}})
        return None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def allows(self, meta: dict[str, Any]) -> bool:
        if self.sources and not {meta.get("source"), meta.get("doc_id")} & set(self.sources):
            return False
        low, high = self._bounds
        if low is None and high is None:
            return True
        number = meta.get("date_num")
        if number is None:
            return False
        return (low is None or number >= low) and (high is None or number <= high)


def _date_bound(value: str, name: str, low: bool) -> int | None:
    if not value:
        return None
    number = date_number(value, upper=not low) if _DATE.match(value.strip()) else None
    if number is None:
        raise FilterError(f"{name} must look like YYYY, YYYY-MM or YYYY-MM-DD, got {value!r}")
    return number


@dataclass(frozen=True)
class Corpus:
    """Every stored chunk as a Document, with a BM25 index over the same chunks."""

    documents: list[Document]
    bm25: BM25

    @property
    def empty(self) -> bool:
        return not self.documents


def load_corpus(store: Store) -> Corpus:
    """Read all chunks from the store and index them for BM25."""
    documents = [Document(page_content=text, metadata={**meta, "chunk_id": chunk_id}, id=chunk_id)
                 for chunk_id, text, meta in store.iter_chunks()]
    return Corpus(documents, BM25([d.page_content for d in documents]))


class LexicalRetriever(BaseRetriever):
    """BM25 over the corpus, honouring the filters."""

    corpus: Corpus
    k: int = 20
    filters: Filters = Filters()

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        allowed = None
        if self.filters != Filters():
            allowed = np.array([self.filters.allows(d.metadata) for d in self.corpus.documents])
        hits = self.corpus.bm25.top(query, self.k, allowed)
        return [self.corpus.documents[i] for i, _ in hits]


def vector_store(store: Store, embedder: Embedder) -> Any:
    """The chunks collection as a langchain-chroma vector store, with our embeddings."""
    from langchain_chroma import Chroma

    return Chroma(client=store.client, collection_name=CHUNKS,
                  embedding_function=embedder)  # type: ignore[arg-type]


def dense_retriever(store: Store, embedder: Embedder, k: int, filters: Filters,
                    vectors: Any = None) -> BaseRetriever:
    """Chroma similarity search through langchain-chroma; pass `vectors` (from `vector_store`)
    to reuse one wrapper across queries."""
    vectors = vectors or vector_store(store, embedder)
    search: dict[str, Any] = {"k": k}
    if (where := filters.where()) is not None:
        search["filter"] = where
    return vectors.as_retriever(search_kwargs=search)


def fuse(ranked: dict[str, list[Document]], k: int) -> list[Passage]:
    """Reciprocal rank fusion of several ranked lists into the top `k` passages."""
    scores: dict[str, float] = {}
    by_id: dict[str, Document] = {}
    for documents in ranked.values():
        for rank, doc in enumerate(documents):
            key = str(doc.id or doc.metadata.get("chunk_id"))
            scores[key] = scores.get(key, 0.0) + 1.0 / (RRF_K + rank + 1)
            by_id.setdefault(key, doc)
    best = sorted(scores, key=lambda key: -scores[key])[:k]
    return [to_passage(by_id[key], key, scores[key]) for key in best]


def to_passage(doc: Document, chunk_id: str, score: float) -> Passage:
    meta = doc.metadata
    return Passage(str(meta["doc_id"]), chunk_id, str(meta.get("title", "")),
                   str(meta.get("source", "")), str(meta.get("date", "")), doc.page_content,
                   int(meta["start"]), int(meta["end"]), round(score, 6))


def hybrid_retriever(
    store: Store, corpus: Corpus, embedder: Embedder, k: int = 5, filters: Filters = Filters(),
    vectors: Any = None,
) -> Runnable[str, list[Passage]]:
    """dense || BM25 -> RRF -> top k passages, as one LCEL runnable."""
    depth = max(4 * k, 20)
    branches = RunnableParallel(
        dense=dense_retriever(store, embedder, depth, filters, vectors),
        lexical=LexicalRetriever(corpus=corpus, k=depth, filters=filters),
    )
    return branches | RunnableLambda(lambda ranked: fuse(ranked, k))
