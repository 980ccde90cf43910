"""Add articles to the store: load -> clean -> chunk -> embed -> store, incrementally.

An unchanged article (same content hash) is skipped, a changed one replaces its old chunks, and a
file that can't be read is reported and skipped while the rest of the batch goes on. Chunks of
several articles are embedded together, in batches, for throughput; stored content hashes are
read once per file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from index.chunk import chunk_article, content_hash
from index.embed import WEIGHTS_SHA256, Embedder
from index.load import Loaded, load_paths
from index.store import Store
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

    def progress(self) -> Progress:
        """Articles done (stored, unchanged or skipped) and chunks written so far."""
        done = self.new + self.updated + self.unchanged + self.skipped()
        return Progress(done, self.chunks)

    def skipped(self) -> int:
        """Files and lines not indexed (the errors that aren't notes on an indexed article)."""
        return sum(error.skipped for error in self.errors)

    def warnings(self) -> int:
        """Notes on files read whole, some of whose fields are not used."""
        return sum(error.warning for error in self.errors)

    def summary(self) -> str:
        cut = len(self.errors) - self.skipped() - self.warnings()
        warned = self.warnings()
        return (f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.skipped()} skipped; {self.chunks} chunks written"
                + (f"; {cut} cut to the size limit" if cut else "")
                + (f"; {warned} warning{'s' * (warned > 1)}" if warned else ""))


@dataclass(frozen=True)
class Progress:
    """How far an `add` is, as it goes (see `index.progress` for showing it)."""

    articles: int
    chunks: int


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
    on_progress: Callable[[Progress], None] = lambda p: None,
) -> AddReport:
    """Index the files and folders in `paths`; `on_chunks` hears how many chunks were written,
    `on_progress` how far the whole add is, after every file and every write."""
    return add_loaded(load_paths(paths), store, embedder, batch_chunks, on_chunks, on_progress)


def add_loaded(
    loaded: Iterable[Loaded],
    store: Store,
    embedder: Embedder,
    batch_chunks: int = 256,
    on_chunks: Callable[[int], None] = lambda n: None,
    on_progress: Callable[[Progress], None] = lambda p: None,
) -> AddReport:
    """Index articles as the loader yields them (from files or uploads)."""
    report = AddReport()
    seen: set[str] = set()
    pending: list[_Job] = []
    for articles, errors in loaded:
        report.errors += errors
        fresh = first_of_each_id(articles, seen, report)
        stored = store.stored_hashes([a.doc_id for a in fresh])
        for article in fresh:
            if job := plan(article, stored.get(article.doc_id), embedder, report):
                pending.append(job)
            if sum(len(j.chunks) for j in pending) >= batch_chunks:
                on_chunks(write(pending, store, embedder, report))
                pending = []
                on_progress(report.progress())
        on_progress(report.progress())
    on_chunks(write(pending, store, embedder, report))
    on_progress(report.progress())
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


def write(jobs: list[_Job], store: Store, embedder: Embedder, report: AddReport) -> int:
    """Embed the jobs' chunks in one call, then store them in one batched write. (Writing in a
    second thread while the next batch embeds gains nothing: Chroma's embedded client holds the
    GIL through an upsert, so the embedding threads wait for it anyway.)"""
    vectors = embedder.embed_documents([c.embed_text for j in jobs for c in j.chunks])
    entries, offset = [], 0
    for job in jobs:
        entries.append((job.article, job.chunks, vectors[offset : offset + len(job.chunks)],
                        job.content_hash))
        offset += len(job.chunks)
    store.put_many(entries)
    for job in jobs:
        report.updated += job.is_update
        report.new += not job.is_update
        report.chunks += len(job.chunks)
        report.words += len(job.article.text.split())
    return offset
