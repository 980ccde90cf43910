"""`python -m index add` with bad input: each file says what is wrong, nothing stored is lost.

Runs the CLI in-process on a store seeded with good articles (.txt, .html, .jsonl). Every bad
input is reported as `skipped PATH: REASON` (the exact reason is asserted), the good files of the
same run are indexed, and every article already stored is still there afterwards, unchanged: its
record, text and chunks. The fake embedder stands in for the model: this is about loading and
reporting, not vectors.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from index.__main__ import main
from index.embed import MODEL_NAME
from index.load import file_doc_id
from index.store import open_store
from tests.conftest import SAMPLES, write
from tests.fakes import FakeEmbedder

Capture = pytest.CaptureFixture[str]
Snapshot = dict[str, tuple[Any, ...]]
ARCHIVE = "an archive, not an article: archives are not unpacked; extract it and add the files"
SECRET = "Zorblax moons orbit slowly."  # inside the archives: must never reach the store


def zipped() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("inner.txt", SECRET)
    return buffer.getvalue()


def tarred() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("inner.txt")
        info.size = len(SECRET)
        archive.addfile(info, io.BytesIO(SECRET.encode()))
    return buffer.getvalue()


def jsonl(*lines: object) -> bytes:
    return "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines).encode()


def good_line(doc_id: str) -> dict[str, str]:
    return {"id": doc_id, "text": f"A good record {doc_id}. It has text."}

# name -> (file name, bytes or None for a missing path, reason, ids of good records in the file)
BAD: dict[str, tuple[str, bytes | None, str, list[str]]] = {
    "missing": ("missing.txt", None, "no such file or folder", []),
    "empty": ("empty.txt", b"", "empty file", []),
    "blank": ("blank.md", b" \r\n\t\n", "empty file", []),
    "binary": ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01",
               "binary file (contains NUL bytes), not text", []),
    "undecodable": ("latin.txt", b"Some text \x81\x8d\x8f\x90\x9d here. " * 3,
                    "not UTF-8 and not decodable as Windows-1252 either", []),
    "no-text-left": ("share.txt", b"Share this!\n", "no article text left after cleaning", []),
    "html-no-text": ("menu.html", b"<nav>Home</nav><script>x()</script>",
                     "no article text left after cleaning", []),
    "malformed-jsonl": ("bad.jsonl", jsonl(good_line("good-1"), "{not json"),
                        "malformed JSONL line 2: not JSON "
                        "(Expecting property name enclosed in double quotes at column 2)",
                        ["good-1"]),
    "jsonl-no-id": ("noid.jsonl", jsonl({"text": "No id here."}, good_line("good-2")),
                    "malformed JSONL line 1: missing 'id'", ["good-2"]),
    "jsonl-no-text": ("notext.jsonl", jsonl({"id": "x", "title": "Only a title"}),
                      "malformed JSONL line 1: article 'x' has no 'text'", []),
    "unsupported": ("paper.pdf", b"%PDF-1.4\n", "unsupported file type .pdf; expected one of "
                    ".txt, .md, .html, .htm, .jsonl", []),
    "zip": ("notes.zip", zipped(), ARCHIVE, []),
    "tar-gz": ("notes.tar.gz", tarred(), ARCHIVE, []),
    "gz": ("notes.txt.gz", gzip.compress(SECRET.encode()), ARCHIVE, []),
    "zip-named-txt": ("disguised.txt", zipped(), ARCHIVE, []),
}


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("index.embed.load_embedder", lambda *a, **k: FakeEmbedder())


@pytest.fixture
def store(tmp_path: Path) -> str:
    return str(tmp_path / "store")


@pytest.fixture
def seeded(tmp_path: Path, store: str, capsys: Capture) -> Path:
    """A folder of good articles, all of them added to `store`."""
    folder = Path(shutil.copytree(SAMPLES, tmp_path / "articles"))
    write(folder / "page.html", "<title>Page</title><article><p>An HTML article. With text.</p>"
                                "</article>")
    write(folder / "feed.jsonl", jsonl({"id": "feed-1", "text": "First record. Text."},
                                       {"id": "feed-2", "text": "Second record. Text."}))
    status, out, _ = run(capsys, "add", str(folder), "--store", store)
    assert status == 0 and out.startswith("5 new, 0 updated, 0 unchanged, 0 skipped")
    return folder


def run(capsys: Capture, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def snapshot(store: str) -> Snapshot:
    """Each stored article's record and text, and its chunks' ids, texts and metadata."""
    opened = open_store(store, None, MODEL_NAME)
    chunks: dict[str, list[tuple[str, str, list[tuple[str, Any]]]]] = {}
    for chunk_id, text, meta in opened.iter_chunks():
        chunks.setdefault(meta["doc_id"], []).append((chunk_id, text, sorted(meta.items())))
    return {a.doc_id: (a, opened.article_text(a.doc_id), sorted(chunks[a.doc_id]))
            for a in opened.list_articles()}


def assert_nothing_lost(before: Snapshot, after: Snapshot) -> None:
    assert {doc_id: after.get(doc_id) for doc_id in before} == before
    assert not any(SECRET in text for _, text, _ in after.values())


def make(folder: Path, name: str, content: bytes | None) -> Path:
    path = folder / name
    return path if content is None else write(path, content)


@pytest.mark.parametrize("kind", list(BAD))
def test_a_bad_input_is_named_and_nothing_stored_is_lost(
    kind: str, tmp_path: Path, store: str, seeded: Path, capsys: Capture
) -> None:
    name, content, reason, good_ids = BAD[kind]
    bad = make(tmp_path / "in", name, content)
    good = write(tmp_path / "in" / "good.txt", "A good article. It has text.")
    before = snapshot(store)

    status, out, err = run(capsys, "add", str(bad), str(good), "--store", store)
    assert status == 1
    assert f"skipped {bad}: {reason}\n" in err
    assert out.startswith(f"{1 + len(good_ids)} new, 0 updated, 0 unchanged, 1 skipped")
    after = snapshot(store)
    assert_nothing_lost(before, after)
    assert set(after) - set(before) == {file_doc_id(good), *good_ids}


def test_every_bad_input_in_one_run(tmp_path: Path, store: str, seeded: Path,
                                    capsys: Capture) -> None:
    folder = tmp_path / "in"
    paths = [make(folder / kind, name, content) for kind, (name, content, _, _) in BAD.items()]
    good = write(folder / "good.md", "# Good\n\nA good article. It has text.")
    before = snapshot(store)

    status, out, err = run(capsys, "add", *map(str, paths), str(good), "--store", store)
    assert status == 1
    for path, (_, _, reason, _) in zip(paths, BAD.values(), strict=True):
        assert f"skipped {path}: {reason}\n" in err
    assert err.count("skipped ") == len(BAD)
    assert out.startswith(f"3 new, 0 updated, 0 unchanged, {len(BAD)} skipped")
    after = snapshot(store)
    assert_nothing_lost(before, after)
    assert set(after) - set(before) == {file_doc_id(good), "good-1", "good-2"}


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [("001_6af38f333212537e.txt", b"", "empty file"),
     ("001_6af38f333212537e.txt", b"\x00\x00binary now", "binary file (contains NUL bytes), not text"),
     ("000_b1f5c98873b2f0c9.txt", zipped(), ARCHIVE),
     ("page.html", b"<nav>only navigation left</nav>", "no article text left after cleaning"),
     ("feed.jsonl", jsonl({"id": "feed-1", "text": "First record. Text."}, '{"id": "feed-2", "te'),
      "malformed JSONL line 2: not JSON (Unterminated string starting at column 18)")],
    ids=["emptied", "binary", "zip", "html-emptied", "jsonl-truncated"],
)
def test_a_stored_file_gone_bad_keeps_its_articles(
    name: str, content: bytes, reason: str, store: str, seeded: Path, capsys: Capture
) -> None:
    before = snapshot(store)
    (seeded / name).write_bytes(content)
    status, out, err = run(capsys, "add", str(seeded), "--store", store)
    assert status == 1 and err.count("skipped ") == 1
    assert f"skipped {seeded / name}: {reason}\n" in err
    assert "0 new, 0 updated" in out and "1 skipped" in out
    assert snapshot(store) == before


def test_a_deleted_file_keeps_its_article_and_a_missing_path_is_named(
    store: str, seeded: Path, capsys: Capture
) -> None:
    before = snapshot(store)
    (seeded / "page.html").unlink()
    missing = seeded / "gone.txt"
    status, out, err = run(capsys, "add", str(seeded), str(missing), "--store", store)
    assert status == 1 and err.count("skipped ") == 1
    assert f"skipped {missing}: no such file or folder\n" in err
    assert out.startswith("0 new, 0 updated, 4 unchanged, 1 skipped")
    assert snapshot(store) == before


def test_a_folder_with_an_archive_and_an_odd_file_name(tmp_path: Path, store: str,
                                                       seeded: Path, capsys: Capture) -> None:
    """In a folder only article files are read: an archive there is not unpacked, and a name
    that isn't UTF-8 is indexed under a readable source."""
    folder = tmp_path / "in"
    write(folder / "notes.zip", zipped())
    odd = write(folder / os.fsdecode(b"caf\xe9.txt"), "An article with an odd name. Text.")
    before = snapshot(store)
    status, out, err = run(capsys, "add", str(folder), "--store", store)
    assert (status, err.count("skipped ")) == (0, 0)
    assert out.startswith("1 new, 0 updated, 0 unchanged, 0 skipped")
    after = snapshot(store)
    assert_nothing_lost(before, after)
    assert after[file_doc_id(odd)][0].source == "in/caf\ufffd.txt"  # no absolute path
