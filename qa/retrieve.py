"""Hybrid retrieval: dense (Chroma) and BM25, fused by their scores; `k` and filters per call.

    passages = search("who was killed at the roadblock?", corpus, vector_store(store, embedder),
                      k=5, filters=Filters(date_from="2010"))

Only the BM25 corpus (per store version) and the Chroma handle are worth keeping between
questions; `search` builds nothing else. `hybrid_retriever` wraps the same call as a LangChain
runnable. It does not answer; `qa.answerers` turn passages into an answer.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda

from index.embed import Embedder
from index.errors import AppError
from index.load import date_number, file_doc_id, is_date
from index.store import CHUNKS, Store, StoredArticle
from qa.lexical import BM25
from qa.types import Passage

# Weight of the dense side in the score fusion (BM25 gets the rest). Chosen on covidqa questions
# 200-499 only: 0.1-0.35 tie there, 0.25 is the middle; the reported sets (all of squad2, covidqa's
# first 200 questions) were not used to choose it. docs/benchmarks.md, "Fusion", has the table.
FUSION_DENSE_WEIGHT = 0.25  # the dense list's weight when fused with BM25
# Retrieval by article (issue 22): each chunk gains ARTICLE_WEIGHT times its article's BM25 score
# over the best article's (several chunks of one article agreeing), and the first ARTICLE_SPREAD
# places go to the best chunks of distinct articles. Chosen on news-dev-2023's half 0 and covidqa
# questions 200-499 (never the reported questions): weight 0.5 of 0-0.8 (news half 0 recall@5
# 0.864 at 0 -> 0.893; covidqa 200-499 0.913 at 0 -> 0.903); spread 5 of 3, 5 and all (all: the
# reader found fewer answers, covidqa 200-499 right 0.66 against 0.709 with 5).
ARTICLE_WEIGHT = 0.5
ARTICLE_SPREAD: int | None = 5
# the threads the dense searches run in (started as needed, shared by all questions)
_DENSE_WORKERS = ThreadPoolExecutor(max_workers=32, thread_name_prefix="dense")


class FilterError(AppError, ValueError):
    """A filter value that can't be used; the message says which and what is allowed."""

    code, status = "bad_filter", 400


@dataclass(frozen=True)
class Filters:
    """Keep passages from these sources (source path/url or doc_id) and dates (inclusive)."""

    sources: tuple[str, ...] = ()
    date_from: str = ""
    date_to: str = ""

    @cached_property
    def _bounds(self) -> tuple[int | None, int | None]:
        return self.bounds()

    @cached_property
    def _sources(self) -> frozenset[str]:
        return frozenset(source_keys(self.sources))

    def bounds(self) -> tuple[int | None, int | None]:
        return _date_bound(self.date_from, "date_from", low=True), _date_bound(
            self.date_to, "date_to", low=False)

    def where(self) -> dict[str, Any] | None:
        """The same filter as a Chroma `where` clause."""
        clauses: list[dict[str, Any]] = []
        if self.sources:
            clauses.append({"$or": [{"source": {"$in": list(self._sources)}},
                                    {"doc_id": {"$in": list(self._sources)}}]})
        low, high = self.bounds()
        if low is not None:
            clauses.append({"date_num": {"$gte": low}})
        if high is not None:
            clauses.append({"date_num": {"$lte": high}})
        return None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def allows(self, meta: dict[str, Any]) -> bool:
        if self.sources and meta.get("source") not in self._sources and (
                meta.get("doc_id") not in self._sources):
            return False
        low, high = self._bounds
        if low is None and high is None:
            return True
        number = meta.get("date_num")
        if number is None:
            return False
        return (low is None or number >= low) and (high is None or number <= high)


def source_keys(sources: tuple[str, ...]) -> list[str]:
    """The sources as given (a doc id, a URL, a source as listed), and each path also as the id
    of the file it names (resolved against the current folder): `data/samples/x.txt` matches
    the article that `python -m index add data/samples` stored as `samples/x.txt`. (Its
    absolute path too, the source stores made before issue 21 hold.)"""
    keys = list(sources)
    for source in sources:
        if source and "://" not in source and not source.startswith("upload:"):
            path = Path(source).expanduser()
            keys += [file_doc_id(path), str(path.resolve())]
    return list(dict.fromkeys(keys))


def matching_articles(filters: Filters, articles: list[StoredArticle]) -> list[StoredArticle]:
    """The stored articles that `filters` lets through (to say when a filter matches none)."""
    return [a for a in articles if filters.allows(
        {"source": a.source, "doc_id": a.doc_id, "date_num": date_number(a.date)})]


def _date_bound(value: str, name: str, low: bool) -> int | None:
    if not value:
        return None
    number = date_number(value, upper=not low) if is_date(value) else None
    if number is None:
        raise FilterError(f"{name} must look like YYYY, YYYY-MM or YYYY-MM-DD, got {value!r}")
    return number


@dataclass(frozen=True)
class Articles:
    """BM25 over whole articles (their chunks joined in order): `ids[i]` is article i's doc id,
    `chunks[i]` the indices of its chunks in the corpus, in order."""

    bm25: BM25
    ids: tuple[str, ...]
    chunks: tuple[np.ndarray, ...]

    @classmethod
    def of(cls, documents: list[Document]) -> Articles:
        groups: dict[str, list[int]] = {}
        for i, doc in enumerate(documents):
            groups.setdefault(str(doc.metadata["doc_id"]), []).append(i)
        order = {key: sorted(ids, key=lambda i: int(documents[i].metadata["start"]))
                 for key, ids in groups.items()}
        texts = [" ".join(documents[i].page_content for i in ids) for ids in order.values()]
        return cls(BM25(texts), tuple(order), tuple(np.array(ids) for ids in order.values()))

    def relative(self, query: str) -> dict[str, float]:
        """Each article's BM25 score for `query` over the best article's (0 where nothing
        matches)."""
        scores = self.bm25.scores(query)
        top = float(scores.max()) if scores.size else 0.0
        return dict(zip(self.ids, (scores / top).tolist(), strict=True)) if top > 0 else {}


@dataclass(frozen=True)
class Corpus:
    """Every stored chunk as a Document, with BM25 indexes over the chunks and the articles."""

    documents: list[Document]
    bm25: BM25
    articles: Articles

    @property
    def empty(self) -> bool:
        return not self.documents


def load_corpus(store: Store) -> Corpus:
    """Read all chunks from the store and index them, and their articles, for BM25."""
    documents = [Document(page_content=text, metadata={**meta, "chunk_id": chunk_id}, id=chunk_id)
                 for chunk_id, text, meta in store.iter_chunks()]
    return Corpus(documents, BM25([d.page_content for d in documents]), Articles.of(documents))


class LexicalRetriever(BaseRetriever):
    """BM25 over the corpus, honouring the filters; a hit's BM25 score is in `metadata["score"]`."""

    corpus: Corpus
    k: int = 20
    filters: Filters = Filters()

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return lexical_hits(query, self.corpus, self.k, self.filters)


def lexical_hits(query: str, corpus: Corpus, k: int, filters: Filters) -> list[Document]:
    """BM25's top `k` chunks that `filters` lets through, each scored in `metadata["score"]`."""
    allowed = None
    if filters != Filters():
        allowed = np.array([filters.allows(d.metadata) for d in corpus.documents])
    return [scored(corpus.documents[i], score) for i, score in corpus.bm25.top(query, k, allowed)]


def dense_hits(query: str, vectors: Any, k: int, filters: Filters) -> list[Document]:
    """Chroma's `k` nearest chunks that `filters` lets through, each with its cosine similarity
    in `metadata["score"]`; `vectors` is a `vector_store`."""
    found = vectors.similarity_search_with_score(query, k=k, filter=filters.where())
    return [scored(doc, 1.0 - float(distance)) for doc, distance in found]


def scored(doc: Document, score: float) -> Document:
    """A copy of `doc` carrying `score` (the corpus's own documents are shared, never changed)."""
    return Document(page_content=doc.page_content, metadata={**doc.metadata, "score": score},
                    id=doc.id)


def vector_store(store: Store, embedder: Embedder) -> Any:
    """The chunks collection as a langchain-chroma vector store, with our embeddings."""
    from langchain_chroma import Chroma

    return Chroma(client=store.client, collection_name=CHUNKS,
                  embedding_function=embedder)  # type: ignore[arg-type]


def fuse(ranked: dict[str, list[Document]], k: int,
         weights: dict[str, float] | None = None) -> list[Passage]:
    """Convex combination of scores: each list's scores are divided by that list's best, weighted
    (default: `FUSION_DENSE_WEIGHT` for "dense", the rest for "lexical") and summed; a document
    missing from a list gets that list's lowest score. The top `k` become passages."""
    weights = weights or {"dense": FUSION_DENSE_WEIGHT, "lexical": 1.0 - FUSION_DENSE_WEIGHT}
    parts = {name: _normalised(documents) for name, documents in ranked.items()}
    by_id = {key: doc for part in parts.values() for key, (doc, _) in part.items()}
    floors = {name: min((s for _, s in part.values()), default=0.0) for name, part in parts.items()}
    scores = {key: sum(weights[name] * (part[key][1] if key in part else floors[name])
                       for name, part in parts.items()) for key in by_id}
    best = sorted(scores, key=lambda key: -scores[key])[:k]
    return [to_passage(by_id[key], key, scores[key]) for key in best]


def _normalised(documents: list[Document]) -> dict[str, tuple[Document, float]]:
    """Chunk id -> (document, score / the list's best score); 0 when nothing scored above 0."""
    top = max((float(d.metadata.get("score", 0.0)) for d in documents), default=0.0)
    return {str(d.id or d.metadata.get("chunk_id")):
            (d, float(d.metadata.get("score", 0.0)) / top if top > 0 else 0.0)
            for d in documents}


def to_passage(doc: Document, chunk_id: str, score: float) -> Passage:
    meta = doc.metadata
    return Passage(str(meta["doc_id"]), chunk_id, str(meta.get("title", "")),
                   str(meta.get("source", "")), str(meta.get("date", "")), doc.page_content,
                   int(meta["start"]), int(meta["end"]), round(score, 6))


def search(query: str, corpus: Corpus, vectors: Any, k: int = 5,
           filters: Filters = Filters(), article_weight: float = ARTICLE_WEIGHT) -> list[Passage]:
    """dense || BM25 -> score fusion -> article scores -> the top `k` passages of one query. The
    two searches run side by side (Chroma's in a worker thread), each `max(4k, 20)` deep; each
    chunk then gains `article_weight` times its article's relative BM25 score (several passages
    of one article agreeing), and the best chunk of each article comes before any second one."""
    depth = max(4 * k, 20)
    dense = _DENSE_WORKERS.submit(dense_hits, query, vectors, depth, filters)
    lexical = lexical_hits(query, corpus, depth, filters)
    fused = fuse({"dense": dense.result(), "lexical": lexical}, depth)
    return by_article(fused, corpus.articles.relative(query), article_weight,
                      ARTICLE_SPREAD)[:k]


def by_article(passages: list[Passage], articles: dict[str, float], weight: float,
               spread: int | None = None) -> list[Passage]:
    """The passages re-scored with `weight` times their article's score, best first; the first
    `spread` places (all, when None) go to the best passages of distinct articles, the rest
    follow by score."""
    rescored = sorted((replace(p, score=round(p.score + weight * articles.get(p.doc_id, 0.0), 6))
                       for p in passages), key=lambda p: -p.score)
    seen: set[str] = set()
    first: list[Passage] = []
    for p in rescored:
        if p.doc_id not in seen and (spread is None or len(first) < spread):
            first.append(p)
        seen.add(p.doc_id)
    chosen = {p.chunk_id for p in first}
    return first + [p for p in rescored if p.chunk_id not in chosen]


def hybrid_retriever(
    store: Store, corpus: Corpus, embedder: Embedder, k: int = 5, filters: Filters = Filters(),
    vectors: Any = None,
) -> Runnable[str, list[Passage]]:
    """`search` as a LangChain runnable with `k` and `filters` fixed (`vectors`, from
    `vector_store`, reuses one Chroma wrapper)."""
    vectors = vectors or vector_store(store, embedder)
    return RunnableLambda(lambda query: search(query, corpus, vectors, k, filters))
