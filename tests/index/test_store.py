"""The Chroma store on its own: put, list, remove, and the embedding-model check."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from index.chunk import chunk_article
from index.store import Store, StoredArticle, StoreError, open_store
from index.types import Article
from tests.fakes import FakeEmbedder

ARTICLE = Article("doc-1", "A Title", "First sentence here. Second sentence here.\n\nThird one.",
                  "/articles/doc-1.txt", "2011-02-17", "Ann Author")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(str(tmp_path / "store"), None, "fake")


def put(store: Store, article: Article, content_hash: str = "h1") -> int:
    fake = FakeEmbedder()
    chunks = chunk_article(article, fake.count_tokens, max_tokens=12, target_tokens=8)
    store.put(article, chunks, fake.embed_documents([c.embed_text for c in chunks]), content_hash)
    return len(chunks)


def test_put_then_list_and_read_back(store: Store) -> None:
    n = put(store, ARTICLE)
    assert n > 1 and store.count() == (1, n)
    assert store.list_articles() == [StoredArticle("doc-1", "A Title", "/articles/doc-1.txt",
                                                   "2011-02-17", "Ann Author", n, "h1")]
    assert store.stored_hashes(["doc-1", "other"]) == {"doc-1": "h1"}
    assert store.article_text("doc-1") == ARTICLE.text


def test_chunk_metadata_points_into_the_article(store: Store) -> None:
    put(store, ARTICLE)
    for _, text, meta in store.iter_chunks():
        assert ARTICLE.text[meta["start"] : meta["end"]] == text
        assert meta["doc_id"] == "doc-1" and meta["date_num"] == 20110217


def test_put_again_replaces_stale_chunks(store: Store) -> None:
    put(store, ARTICLE)
    edited = replace(ARTICLE, text="Only one short sentence now.")
    n = put(store, edited, "h2")
    assert store.count() == (1, n)
    assert [text for _, text, _ in store.iter_chunks()] == ["Only one short sentence now."]


def test_remove(store: Store) -> None:
    put(store, ARTICLE)
    put(store, replace(ARTICLE, doc_id="doc-2"))
    assert store.remove("doc-1") is True
    assert [a.doc_id for a in store.list_articles()] == ["doc-2"]
    assert {meta["doc_id"] for _, _, meta in store.iter_chunks()} == {"doc-2"}
    assert store.remove("doc-1") is False
    assert store.remove("never-there") is False


def test_store_persists_across_opens(tmp_path: Path) -> None:
    n = put(open_store(str(tmp_path / "store"), None, "fake"), ARTICLE)
    assert open_store(str(tmp_path / "store"), None, "fake").count() == (1, n)


def test_a_store_built_with_another_model_is_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "store")
    open_store(path, None, "a")
    with pytest.raises(StoreError) as error:
        open_store(path, None, "b")
    assert "built with a, not b" in str(error.value) and path in str(error.value)
    open_store(path, None, "a")  # the right model still opens it


def test_an_unusable_store_folder_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="Cannot open the store folder"):
        open_store(str(blocker / "store"), None, "fake")


def test_the_version_changes_with_every_write_seen_from_another_handle(
        store: Store, tmp_path: Path) -> None:
    other = open_store(str(tmp_path / "store"), None, "fake")
    versions = [other.version()]
    put(store, ARTICLE)
    versions.append(other.version())
    put(store, replace(ARTICLE, text=ARTICLE.text + " Fourth sentence."), "h2")  # same count
    versions.append(other.version())
    assert other.version() == versions[-1]  # reading changes nothing
    store.remove("doc-1")
    versions.append(other.version())
    assert len(set(versions)) == 4


@pytest.mark.parametrize("text", [
    "  Leading space. Then\ttabs\there.\n\n\nThree newlines!   Trailing spaces.   ",
    "One sentence without a stop",
    "Ünïcödé — dashes… and “quotes”.\r\nWindows line end. 한국어 문장입니다.",
])
def test_article_text_is_put_back_together_from_the_chunks(store: Store, text: str) -> None:
    article = replace(ARTICLE, text=text)
    put(store, article)
    assert store.article_text("doc-1") == text
    # the text is stored once, in the chunks: the article record has no document
    assert store.articles.get(ids=["doc-1"], include=["documents"])["documents"] == [None]


def test_article_text_of_an_article_stored_whole_by_an_older_version(store: Store) -> None:
    store.articles.upsert(ids=["old"], embeddings=[[0.0]], documents=["The old whole text."],
                          metadatas=[{"doc_id": "old", "title": "", "source": "", "date": "",
                                      "author": "", "chunks": 0, "content_hash": "h0"}])
    assert store.article_text("old") == "The old whole text."
    assert store.article_text("missing") is None


def test_an_older_whole_text_is_dropped_when_the_article_is_stored_again(store: Store) -> None:
    store.articles.upsert(ids=["doc-1"], embeddings=[[0.0]], documents=["Old secret text."],
                          metadatas=[{"doc_id": "doc-1", "title": "", "source": "", "date": "",
                                      "author": "", "chunks": 0, "content_hash": "h0"}])
    put(store, ARTICLE)
    assert store.article_text("doc-1") == ARTICLE.text
    assert store.articles.get(ids=["doc-1"], include=["documents"])["documents"] == [""]
