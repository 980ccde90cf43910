"""Add articles to the store: load -> clean -> chunk -> embed -> store, incrementally.

An unchanged article (same content hash) is skipped, a changed one replaces its old chunks, and a
file that can't be read is reported and skipped while the rest of the batch goes on. Chunks of
several articles are embedded together, in batches, for throughput, and a batch is written while
the next one is embedded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from index.chunk import chunk_article, content_hash
from index.embed import WEIGHTS_SHA256, Embedder
from index.load import Loaded, load_paths
from index.store import Entry, Store
from index.types import Article, Chunk, LoadError


@dataclass
class AddReport:
    """What an `add` did, for the summary line."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    chunks: int = 0
    words: int = 0
    errors: list[LoadError] = field(default_factory=list)

    def merge(self, other: AddReport) -> None:
        """Count `other`'s work into this report."""
        self.new, self.updated = self.new + other.new, self.updated + other.updated
        self.unchanged, self.chunks = self.unchanged + other.unchanged, self.chunks + other.chunks
        self.words += other.words
        self.errors += other.errors

    def summary(self) -> str:
        return (f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
                f"{len(self.errors)} skipped; {self.chunks} chunks written")


@dataclass(frozen=True)
class _Job:
    article: Article
    chunks: list[Chunk]
    content_hash: str
    is_update: bool


def add_paths(
    paths: list[str],
    store: Store,
    embedder: Embedder,
    batch_chunks: int = 256,
    on_chunks: Callable[[int], None] = lambda n: None,
) -> AddReport:
    """Index the files and folders in `paths`; `on_chunks` hears how many chunks were written."""
    return add_loaded(load_paths(paths), store, embedder, batch_chunks, on_chunks)


def add_loaded(
    loaded: Iterable[Loaded],
    store: Store,
    embedder: Embedder,
    batch_chunks: int = 256,
    on_chunks: Callable[[int], None] = lambda n: None,
) -> AddReport:
    """Index articles as the loader yields them (from files or uploads)."""
    report = AddReport()
    seen: set[str] = set()
    with Writer(store, embedder, report, batch_chunks, on_chunks) as writer:
        for articles, errors in loaded:
            report.errors += errors
            fresh = first_of_each_id(articles, seen, report)
            stored = store.stored_hashes([a.doc_id for a in fresh])
            for article in fresh:
                if job := plan(article, stored.get(article.doc_id), embedder, report):
                    writer.add(job)
    return report


def first_of_each_id(articles: list[Article], seen: set[str], report: AddReport) -> list[Article]:
    """The articles whose id hasn't been seen in this add; the others are reported."""
    fresh = []
    for article in articles:
        if article.doc_id in seen:
            report.errors.append(LoadError(article.source, f"duplicate article id "
                                           f"{article.doc_id!r}; the first one was kept"))
            continue
        seen.add(article.doc_id)
        fresh.append(article)
    return fresh


def plan(article: Article, stored: str | None, embedder: Embedder,
         report: AddReport) -> _Job | None:
    """Chunk an article unless the store already holds this exact version (hash `stored`)."""
    digest = content_hash(article, WEIGHTS_SHA256)
    if stored == digest:
        report.unchanged += 1
        return None
    chunks = chunk_article(article, embedder.count_tokens)
    return _Job(article, chunks, digest, is_update=stored is not None)


class Writer:
    """Embeds jobs in batches of about `batch_chunks` chunks and stores each batch in one
    batched write. A write runs in a background thread while the next batch is chunked and
    embedded; one write at a time, in order, and the add ends when the last one has."""

    def __init__(self, store: Store, embedder: Embedder, report: AddReport, batch_chunks: int,
                 on_chunks: Callable[[int], None]) -> None:
        self.store, self.embedder, self.report = store, embedder, report
        self.batch_chunks, self.on_chunks = batch_chunks, on_chunks
        self.pending: list[_Job] = []
        self.writing: Future[list[_Job]] | None = None
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="store-writer")

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self.flush()
            self.wait()
        finally:
            self.pool.shutdown()

    def add(self, job: _Job) -> None:
        self.pending.append(job)
        if sum(len(j.chunks) for j in self.pending) >= self.batch_chunks:
            self.flush()

    def flush(self) -> None:
        """Embed the pending jobs now; store them once the previous write is done."""
        jobs, self.pending = self.pending, []
        vectors = self.embedder.embed_documents([c.embed_text for j in jobs for c in j.chunks])
        self.wait()
        entries, offset = [], 0
        for job in jobs:
            entries.append((job.article, job.chunks, vectors[offset : offset + len(job.chunks)],
                            job.content_hash))
            offset += len(job.chunks)
        self.writing = self.pool.submit(self._store, entries, jobs)

    def _store(self, entries: list[Entry], jobs: list[_Job]) -> list[_Job]:
        self.store.put_many(entries)
        return jobs

    def wait(self) -> None:
        """Finish the write in flight (its error, if any, is raised here) and count it."""
        if self.writing is None:
            return
        jobs, self.writing = self.writing.result(), None
        for job in jobs:
            self.report.updated += job.is_update
            self.report.new += not job.is_update
            self.report.chunks += len(job.chunks)
            self.report.words += len(job.article.text.split())
        self.on_chunks(sum(len(job.chunks) for job in jobs))
