"""add_paths with the fake embedder: incremental adds, updates, bad files and interruptions."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from index import load
from index.add import add_loaded, add_paths
from index.load import file_doc_id, load_upload
from index.store import Store, open_store
from tests.conftest import SAMPLES, write
from tests.fakes import FakeEmbedder

SEED = "001_6af38f333212537e.txt"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(str(tmp_path / "store"), None, "fake")


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    """A private copy of the sample articles, safe to edit."""
    return Path(shutil.copytree(SAMPLES, tmp_path / "articles"))


def chunks_by_doc(store: Store) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    found: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for row in store.iter_chunks():
        found.setdefault(row[2]["doc_id"], []).append(row)
    return found


def assert_complete(store: Store) -> None:
    """Every article's chunks are slices of its stored text, as many as its record says."""
    chunks = chunks_by_doc(store)
    assert set(chunks) == {a.doc_id for a in store.list_articles()}
    for stored in store.list_articles():
        text = store.article_text(stored.doc_id)
        rows = chunks[stored.doc_id]
        assert len(rows) == stored.chunks
        assert all(text is not None and text[m["start"] : m["end"]] == t for _, t, m in rows)
        spans = Counter((m["start"], m["end"]) for _, _, m in rows)
        assert max(spans.values()) == 1


def test_add_then_add_again_changes_nothing(articles: Path, store: Store,
                                            fake_embedder: FakeEmbedder) -> None:
    report = add_paths([str(articles)], store, fake_embedder)
    assert (report.new, report.updated, report.unchanged, report.errors) == (2, 0, 0, [])
    counts = store.count()
    assert counts[0] == 2 and report.chunks == counts[1]

    again = add_paths([str(articles)], store, fake_embedder)
    assert (again.new, again.updated, again.unchanged, again.chunks) == (0, 0, 2, 0)
    assert "0 new" in again.summary() and "2 unchanged" in again.summary()
    assert store.count() == counts
    assert_complete(store)


def test_on_chunks_hears_every_chunk_written(articles: Path, store: Store,
                                             fake_embedder: FakeEmbedder) -> None:
    heard: list[int] = []
    report = add_paths([str(articles)], store, fake_embedder, batch_chunks=3,
                       on_chunks=heard.append)
    assert sum(heard) == report.chunks == store.count()[1] and len(heard) > 1


def test_editing_one_file_updates_only_that_article(articles: Path, store: Store,
                                                    fake_embedder: FakeEmbedder) -> None:
    add_paths([str(articles)], store, fake_embedder)
    seed = articles / SEED
    seed.write_text(seed.read_text(encoding="utf-8")
                    .replace("In contrast to their upbeat", "Unlike their upbeat")
                    .replace("American Power", "Somewhere Else"), encoding="utf-8")

    report = add_paths([str(articles)], store, fake_embedder)
    assert (report.new, report.updated, report.unchanged) == (0, 1, 1)
    assert_complete(store)
    doc_id = file_doc_id(seed)
    texts = [t for _, t, _ in chunks_by_doc(store)[doc_id]]
    assert not any("American Power" in t or "In contrast" in t for t in texts)
    assert any("Somewhere Else" in t for t in texts)
    assert "Unlike their upbeat" in (store.article_text(doc_id) or "")


def test_remove_drops_article_and_chunks(articles: Path, store: Store,
                                         fake_embedder: FakeEmbedder) -> None:
    add_paths([str(articles)], store, fake_embedder)
    doc_id = file_doc_id(articles / SEED)
    assert store.remove(doc_id) is True
    assert doc_id not in {a.doc_id for a in store.list_articles()}
    assert doc_id not in chunks_by_doc(store)
    assert store.remove(doc_id) is False
    assert store.count()[0] == 1


def test_list_articles_returns_metadata(articles: Path, store: Store,
                                        fake_embedder: FakeEmbedder) -> None:
    add_paths([str(articles)], store, fake_embedder)
    listed = {a.doc_id: a for a in store.list_articles()}
    seed = listed[file_doc_id(articles / SEED)]
    assert seed.title == "WikiLeaks Cables Reveal Unease Over Mexican Drug War"
    assert seed.source == f"{articles.name}/{SEED}"  # the path from the folder added
    assert seed.chunks > 0 and len(seed.content_hash) == 64


def test_a_bad_file_is_reported_and_the_good_one_stored(tmp_path: Path, store: Store,
                                                        fake_embedder: FakeEmbedder) -> None:
    good = write(tmp_path / "in" / "good.txt", "A good article. It has text.")
    binary = write(tmp_path / "in" / "bad.txt", b"\x00\x01binary")
    missing = str(tmp_path / "in" / "missing.txt")
    report = add_paths([str(good), str(binary), missing], store, fake_embedder)
    assert report.new == 1
    assert {(e.path, e.reason.split(" (")[0]) for e in report.errors} == {
        (str(binary), "binary file"), (missing, "no such file or folder")}
    assert "2 skipped" in report.summary()
    assert [a.doc_id for a in store.list_articles()] == [file_doc_id(good)]


@pytest.mark.parametrize("broken", [b"", b"\x00\x00binary now"], ids=["empty", "binary"])
def test_a_stored_article_survives_its_file_going_bad(articles: Path, store: Store,
                                                      fake_embedder: FakeEmbedder,
                                                      broken: bytes) -> None:
    add_paths([str(articles)], store, fake_embedder)
    before = store.count()
    (articles / SEED).write_bytes(broken)
    report = add_paths([str(articles)], store, fake_embedder)
    assert [e.path for e in report.errors] == [str(articles / SEED)]
    assert (report.new, report.updated, report.unchanged) == (0, 0, 1)
    assert store.count() == before
    assert_complete(store)


# --- interruptions -------------------------------------------------------------------------------


class InterruptingEmbedder(FakeEmbedder):
    """Raises KeyboardInterrupt (Ctrl-C) on its n-th embed_documents call."""

    def __init__(self, on_call: int) -> None:
        super().__init__()
        self.on_call = on_call

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.calls + 1 == self.on_call:
            self.calls += 1
            raise KeyboardInterrupt
        return super().embed_documents(texts)


def many_articles(folder: Path, n: int = 6) -> Path:
    for i in range(n):
        sentences = " ".join(f"Article {i} sentence {j} is here." for j in range(12))
        write(folder / f"story-{i}.txt", f"Story number {i}\n\n{sentences}")
    return folder


def chunk_ids(store: Store) -> list[str]:
    return sorted(chunk_id for chunk_id, _, _ in store.iter_chunks())


def test_an_interrupted_add_is_finished_by_the_next(tmp_path: Path, store: Store) -> None:
    folder = many_articles(tmp_path / "in")
    with pytest.raises(KeyboardInterrupt):
        add_paths([str(folder)], store, InterruptingEmbedder(on_call=2), batch_chunks=1)
    assert store.count()[0] == 1  # the first article was written before the interrupt

    report = add_paths([str(folder)], store, FakeEmbedder(), batch_chunks=1)
    assert (report.new, report.unchanged) == (5, 1)
    assert_complete(store)

    clean = open_store(str(tmp_path / "clean"), None, "fake")
    add_paths([str(folder)], clean, FakeEmbedder())
    assert store.count() == clean.count() == (6, len(chunk_ids(clean)))
    assert chunk_ids(store) == chunk_ids(clean)


class InterruptingUpserts:
    """A collection whose upsert is interrupted; everything else goes to the real one."""

    def __init__(self, collection: Any) -> None:
        self.collection = collection

    def upsert(self, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    def __getattr__(self, name: str) -> Any:
        return getattr(self.collection, name)


def test_an_interrupted_update_is_finished_even_if_the_file_is_reverted(
    tmp_path: Path, articles: Path, store: Store, fake_embedder: FakeEmbedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_paths([str(articles)], store, fake_embedder)
    seed = articles / SEED
    original = seed.read_text(encoding="utf-8")
    seed.write_text(original.replace("In contrast to their upbeat", "Unlike their upbeat"),
                    encoding="utf-8")
    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        # Ctrl-C after the new chunks are written, before the article record
        patch.setattr(store, "articles", InterruptingUpserts(store.articles))
        add_paths([str(articles)], store, fake_embedder)

    seed.write_text(original, encoding="utf-8")
    add_paths([str(articles)], open_store(str(tmp_path / "store"), None, "fake"), fake_embedder)
    assert_complete(store)


def test_an_article_cut_to_the_limit_is_stored_and_noted(store: Store, fake_embedder: FakeEmbedder,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # issue 21, finding 10: the work of one article is bounded, and the reply says so
    monkeypatch.setattr(load, "MAX_ARTICLE_CHARS", 1_000)
    report = add_loaded([load_upload("long.txt", ("Word " * 1_000).encode())], store, fake_embedder)
    assert (report.new, report.skipped()) == (1, 0)
    assert [(e.path, e.skipped) for e in report.errors] == [("upload:long.txt", False)]
    assert "only the first 1,000 of its 5,000 characters were indexed" in report.errors[0].reason
    assert report.summary().endswith(
        f"0 skipped; {report.chunks} chunks written; 1 cut to the size limit")
    assert report.progress().articles == 1
    stored = store.list_articles()[0]
    assert stored.source == "upload:long.txt"
    assert "".join(c[1] for c in chunks_by_doc(store)[stored.doc_id]).count("Word") == 200


def test_stored_metadata_is_one_line_and_capped(store: Store, fake_embedder: FakeEmbedder) -> None:
    # issue 21, findings 2 and 3: a 2 MB title was copied into every chunk's metadata
    record = ('{"id": "t", "text": "One. Two.", "title": "A\\n\\n![p](http://127.0.0.1:9/x.png)'
              + " padding" * 250_000 + '", "url": "javascript:alert(1)"}\n')
    add_loaded([load_upload("feed.jsonl", record.encode())], store, fake_embedder)
    for _, _, meta in store.iter_chunks():
        assert meta["title"].startswith("A ![p](http://127.0.0.1:9/x.png) padding")
        assert len(meta["title"]) <= 300 and "\n" not in meta["title"]
        assert meta["source"] == "upload:feed.jsonl#t"
