"""Issue 21's findings about what an upload can store, tried as an attacker would against a real
`python -m ui` (QA_API_KEYS set) through `POST /api/documents`: markup and megabytes in titles and
urls (findings 2 and 3), chunks of any size (3), ids that can't be removed (8), cleaning that
costs a minute (10), and absolute server paths shown to anyone (12).

One server, over its own copy of the sample store (tests/ui/conftest.py). Times are ratios to a benign upload of as
many bytes, never absolute; the cleaning inputs are the issue's at a fifth of its sizes (the cost
is linear, so the ratio is the same, and embedding the full 1 MB of "a\\n" takes a minute here).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from index.chunk import MAX_CHUNK_CHARS
from index.load import MAX_ARTICLE_CHARS, MAX_SOURCE_CHARS, MAX_TITLE_CHARS
from tests.conftest import SAMPLES, slower
from tests.ui.conftest import WRITE, start, stop

pytestmark = pytest.mark.slow
WRITER = {"Authorization": f"Bearer {WRITE}"}
ANSWER_BYTES = 100_000  # a whole answer at k=10: ten passages of 2,000 characters and more
PIXEL = "![p](http://127.0.0.1:9/x.png)"
PHISH = "[Your key expired - renew here](http://evil.example)"
RECORDS = [
    {"id": "pixel", "title": f"Otter notes\n\n{PIXEL}", "url": f"http://example.org/a\n\n{PIXEL}",
     "author": "Ann\r\nBob", "text": "Sea otters hold hands while they sleep. They float."},
    {"id": "phish", "title": PHISH, "text": "Beavers build dams of wood and mud. Dams hold."},
    {"id": "script", "url": "javascript:alert(1)", "title": "Click",
     "text": "Herons stand still in shallow water for a long time. They wait."},
    {"id": "huge-title", "title": "Walrus facts " * 160_000,  # 2 MB
     "text": "Walruses use their tusks to haul out onto the ice. The tusks grow."},
    {"id": "evil/../x", "text": "An id with slashes is an id like any other. It stays."},
    {"id": "two\nlines", "text": "An id of two lines can't be shown or removed. It is refused."},
]


@pytest.fixture(scope="module")
def url(sample_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    process, address = start(sample_store, tmp_path_factory.mktemp("ingest"),
                             {"QA_API_KEYS": WRITE})
    yield address
    stop(process)


def upload(url: str, name: str, data: bytes) -> dict[str, Any]:
    with httpx.Client(base_url=url, timeout=600, headers=WRITER) as http:
        reply = http.post("/api/documents", files={"files": (name, data)})
    assert reply.status_code == 200, reply.text[:500]
    return dict(reply.json())


def documents(url: str) -> list[dict[str, Any]]:
    with httpx.Client(base_url=url, timeout=60, headers=WRITER) as http:
        return list(http.get("/api/documents").json()["documents"])


def ask(url: str, question: str, doc_id: str) -> httpx.Response:
    body = {"question": question, "k": 10, "filters": {"sources": [doc_id]}}
    with httpx.Client(base_url=url, timeout=120, headers=WRITER) as http:
        answer = http.post("/api/ask", json=body)
    assert answer.status_code == 200, answer.text[:500]
    return answer


def one_line(value: str) -> bool:
    return not any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value)


@pytest.fixture(scope="module")
def feed(url: str) -> dict[str, Any]:
    lines = "".join(json.dumps(r) + "\n" for r in RECORDS).encode()
    return upload(url, "feed.jsonl", lines)


def test_titles_urls_and_authors_are_stored_as_one_short_line(url: str,
                                                              feed: dict[str, Any]) -> None:
    # finding 2: a blank line and an image in a title made the embed load the image; finding 3:
    # a 2 MB title was copied into every chunk
    assert feed["new"] == 5
    stored = {d["doc_id"]: d for d in documents(url)}
    for doc in stored.values():
        for field in ("title", "source", "author", "date"):
            assert one_line(doc[field]), (field, doc[field][:200])
        assert len(doc["title"]) <= MAX_TITLE_CHARS and len(doc["source"]) <= MAX_SOURCE_CHARS
    assert stored["pixel"]["title"] == f"Otter notes {PIXEL}"  # one line: text, not Markdown
    assert stored["pixel"]["source"] == "upload:feed.jsonl#pixel"  # a url of two lines: dropped
    assert stored["pixel"]["author"] == "Ann Bob"
    assert stored["phish"]["title"] == PHISH  # kept as text; the pages render it as text
    assert stored["script"]["source"] == "upload:feed.jsonl#script"  # javascript: dropped
    assert stored["huge-title"]["title"].startswith("Walrus facts Walrus")


def test_ids_are_checked_when_stored(url: str, feed: dict[str, Any]) -> None:
    # finding 8: an id that can't be listed, shown or removed is refused with the reason
    stored = {d["doc_id"] for d in documents(url)}
    assert "evil/../x" in stored and not any("\n" in d for d in stored)
    [refused] = [e for e in feed["errors"] if "line 6" in e["reason"]]
    assert refused["file"] == "feed.jsonl" and "'id'" in refused["reason"]
    assert "one line of printable text" in refused["reason"]


def test_an_answer_from_a_huge_title_is_small(url: str, feed: dict[str, Any]) -> None:
    answer = ask(url, "What do walruses use their tusks for?", "huge-title")
    assert len(answer.content) < ANSWER_BYTES  # was 19.4 MB at k=10


HUGE = [  # finding 3: each of these was one chunk of megabytes, and so was every answer using it
    ("word.txt", "Tusks.\n" + "\u02ac" * 5_000_000 + "\n", "What about tusks?"),
    ("spaces.txt", "Otters sleep on their backs." + " " * 5_000_000 + "Otters eat urchins.",
     "What do otters eat?"),
    ("nbsp.txt", "Herons fish at dawn." + "\u00a0" * 1_000_000 + "Herons nest in trees.",
     "Where do herons nest?"),
]


@pytest.mark.parametrize(("name", "text", "question"), HUGE, ids=[h[0] for h in HUGE])
def test_chunks_and_answers_are_bounded(url: str, name: str, text: str, question: str) -> None:
    # a word of a character the model reads as unknown (U+02AC) is cut as one of "x" is
    # (tests/index/test_chunk.py), and costs a fiftieth as much to embed here
    reply = upload(url, name, text.encode())
    assert reply["new"] == 1, reply
    [doc] = [d for d in documents(url) if d["source"] == f"upload:{name}"]
    answer = ask(url, question, doc["doc_id"])
    assert len(answer.content) < ANSWER_BYTES
    assert all(len(p["text"]) <= MAX_CHUNK_CHARS for p in answer.json()["passages"])
    if len(text) > MAX_ARTICLE_CHARS:  # and the uploader is told what was left out
        assert [e["file"] for e in reply["errors"]] == [name]
        assert f"only the first {MAX_ARTICLE_CHARS:,}" in reply["errors"][0]["reason"]
        assert reply["summary"].endswith("1 cut to the size limit")


def benign(size: int, html: bool) -> bytes:
    """Ordinary prose of `size` bytes: the sample articles, as text or as HTML paragraphs."""
    paragraphs = [p for path in sorted(SAMPLES.glob("*.txt"))
                  for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    one = "".join(f"<p>{p}</p>\n" if html else f"{p}\n\n" for p in paragraphs).encode()
    return (one * (size // len(one) + 1))[:size]


@pytest.mark.parametrize(("name", "hostile"), [
    ("lines.txt", b"a\n" * 100_000),  # 1 MB took 5.5 s to clean, ftfy's cost being per line
    ("paragraphs.html", b"<p>a</p>" * 40_000),  # 1.6 MB took 15 s: a tree of tags, 17 searches
], ids=["a-lines", "p-tags"])
def test_reading_an_upload_costs_what_ordinary_text_does(url: str, name: str,
                                                         hostile: bytes) -> None:
    # finding 10: once stored, the same upload again is unchanged, so what it costs is reading
    # and cleaning alone (embedding costs by the word piece, as for any text of as many words)
    ordinary = benign(len(hostile), name.endswith(".html"))
    suffix = name.rpartition(".")[2]
    assert upload(url, name, hostile)["new"] == 1
    assert upload(url, f"ordinary.{suffix}", ordinary)["new"] == 1
    ratio = slower(lambda: upload(url, name, hostile),
                   lambda: upload(url, f"ordinary.{suffix}", ordinary))
    assert ratio < 3, ratio  # before: 12x and 10x here; after: 0.9x and 0.3x


def test_no_absolute_server_path_is_shown(url: str) -> None:
    # finding 12: files indexed by `python -m index add data/samples` showed /.../data/samples/...
    sources = [d["source"] for d in documents(url)]
    assert "samples/000_b1f5c98873b2f0c9.txt" in sources
    assert not any(s.startswith("/") or str(SAMPLES.resolve()) in s for s in sources)
    answer = ask(url, "Who was killed at the fake roadblock?", "samples/000_b1f5c98873b2f0c9.txt")
    assert str(SAMPLES.resolve()) not in answer.text and answer.json()["citations"]
