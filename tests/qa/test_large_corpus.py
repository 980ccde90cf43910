"""qa.measuring.eval and qa.measuring.bench index corpora of any size: every Chroma write is cut into batches Chroma
accepts (an embedded store takes at most 5461 records a call). A fast fake embedder stands in for
the model: these tests are about the writes, not the vectors."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.add import add_loaded
from index.store import batches, open_store
from index.types import Article
from qa.measuring.eval import index_naive
from tests.fakes import FakeEmbedder

pytestmark = pytest.mark.slow


def many_articles(n: int) -> list[Article]:
    """`n` short articles, one chunk each in both pipelines."""
    return [Article(f"doc-{i}", f"Article {i}", f"Town number {i} has a mayor called Ana {i}.",
                    f"/corpus/{i}.txt") for i in range(n)]


def test_batches_cover_every_record_once_within_the_limit() -> None:
    class Client:
        def get_max_batch_size(self) -> int:
            return 3

    parts = list(batches(Client(), 7))
    assert [list(p) for p in parts] == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batches(Client(), 0)) == []


def test_the_naive_baseline_indexes_more_chunks_than_chroma_takes_in_one_call(
        tmp_path: Path) -> None:
    import chromadb

    client = chromadb.PersistentClient(path=str(tmp_path / "naive"))
    limit = client.get_max_batch_size()
    articles = many_articles(limit + 100)
    naive = index_naive(articles, FakeEmbedder(), client)
    assert naive._collection.count() == limit + 100


def test_our_store_writes_more_chunks_than_chroma_takes_in_one_call(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "ours"), None, "fake")
    limit = store.client.get_max_batch_size()
    articles = many_articles(limit + 100)
    report = add_loaded([(articles, [])], store, FakeEmbedder(), batch_chunks=2 * limit)
    assert (report.new, report.chunks) == (limit + 100, limit + 100)
    assert store.count() == (limit + 100, limit + 100)
    again = add_loaded([(articles, [])], store, FakeEmbedder(), batch_chunks=2 * limit)
    assert again.unchanged == limit + 100
