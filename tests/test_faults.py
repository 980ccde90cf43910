"""Faults on the indexing side, with real processes, the real store and the real model: a
`kill -9` of `python -m index add` in the middle of its writes, and questions asked while articles
are being added."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from index.__main__ import main as index_main
from index.embed import MODEL_NAME
from index.store import Store, open_store
from qa.errors import EmptyStore
from qa.service import Service
from tests.conftest import ROOT, SAMPLES, SHARED

pytestmark = pytest.mark.slow

EVAL = SHARED / "eval" / "squad2-dev-500"
N_DOCS = 420  # one chunk each: the CLI stores them in two batched writes (256 chunks, 164)
QUIET = 0.8  # seconds without a change in the store folder that end a burst of writes
KILLED = "Who was killed at the fake roadblock?"
Snapshot = dict[str, dict[str, Any]]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def town_articles(n: int) -> list[dict[str, str]]:
    """`n` short made-up articles, each about one town and its mayor (short, so quick to embed)."""
    rng = random.Random(7)
    syllables = "ka lo mi ren to vas qu el dor an ip su bra nel".split()
    firsts = "Ada Bela Cyril Dana Emil Fenna Goran Hilde Ivo Jana Kasimir Lotta".split()
    towns = sorted({"".join(rng.sample(syllables, 3)).title() for _ in range(3 * n)})
    rng.shuffle(towns)
    return [{"id": f"town-{i:03d}", "title": town, "text": (
        f"{town} is a small town on the {rng.choice(syllables).title()} river, known for its "
        f"{rng.choice(['cheese', 'glass', 'boats', 'bells', 'wool', 'apples'])}. The mayor of "
        f"{town} is {rng.choice(firsts)} {''.join(rng.sample(syllables, 2)).title()}sen, elected "
        f"in {rng.randint(1900, 2020)}.")}
        for i, town in enumerate(towns[:n])]


@pytest.fixture(scope="module")
def articles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """N_DOCS town articles as one JSONL file."""
    path = tmp_path_factory.mktemp("articles") / "towns.jsonl"
    path.write_text("".join(json.dumps(a) + "\n" for a in town_articles(N_DOCS)),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def clean(articles: Path, tmp_path_factory: pytest.TempPathFactory, embedder) -> Snapshot:  # type: ignore[no-untyped-def]
    """What an uninterrupted `index add` of the articles stores."""
    from index.add import add_paths

    store = open_store(str(tmp_path_factory.mktemp("clean") / "store"), None, MODEL_NAME)
    assert add_paths([str(articles)], store, embedder).new == N_DOCS
    return snapshot(store, embedder)


def snapshot(store: Store, embedder) -> Snapshot:  # type: ignore[no-untyped-def]
    """Every chunk (text, metadata) and article record (text, metadata) by id; the vector index
    must hold exactly the stored chunks."""
    chunks = {cid: (text, meta) for cid, text, meta in store.iter_chunks()}
    found = store.articles.get(include=["documents", "metadatas"])
    records = {i: (d, m) for i, d, m in zip(found["ids"], found["documents"], found["metadatas"],
                                            strict=True)}
    hits = store.chunks.query(query_embeddings=[embedder.embed_query("anything")],
                              n_results=max(len(chunks), 1), include=[])
    assert set(hits["ids"][0]) == set(chunks), "the vector index and the chunks disagree"
    return {"chunks": chunks, "articles": records}


def folder_state(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """(name, mtime, size) of every file under `folder`, ignoring files that just vanished."""
    state = []
    for path in folder.rglob("*"):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        state.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(state))


def kill_in_write(process: subprocess.Popen[bytes], folder: Path, burst: int,
                  delay: float) -> None:
    """SIGKILL `process` `delay` s into its `burst`-th burst of writes to the store folder: burst
    0 creates the collections, each later one stores one batch of chunks and their articles."""
    seen, last_change, state = -1, -QUIET, folder_state(folder)
    while process.poll() is None and seen < burst:
        if (current := folder_state(folder)) != state:
            now = time.monotonic()
            seen += now - last_change > QUIET
            state, last_change = current, now
        time.sleep(0.002)
    time.sleep(delay)
    process.kill()
    assert process.wait(timeout=30) == -signal.SIGKILL, f"the indexer ended first ({seen=})"


def check_answers(store: Store, articles: Path, embedder) -> int:  # type: ignore[no-untyped-def]
    """Ask who the mayor is of towns the killed store holds chunks of (the answer must name them);
    return how many articles it holds chunks of."""
    service = Service(store, embedder)
    held = {meta["doc_id"] for _, _, meta in store.iter_chunks()}
    if not held:
        with pytest.raises(EmptyStore):
            service.ask(KILLED)
        return 0
    for article in [a for a in read_jsonl(articles) if a["id"] in held][::50]:
        result = service.ask(f"Who is the mayor of {article['title']}?")
        assert {p.doc_id for p in result.passages} <= held
        assert result.citations[0].doc_id == article["id"], (article, result.answer)
        mayor = article["text"].split(" is ")[-1].split(",")[0]
        assert mayor in result.answer, (mayor, result.answer)
    return len(held)


@pytest.mark.parametrize(("burst", "delay"), [(1, 0.05), (2, 0.1)],
                         ids=["early", "late"])
def test_a_kill_9_while_indexing_leaves_a_store_the_next_add_completes_exactly(
    burst: int, delay: float, articles: Path, clean: Snapshot, embedder,  # type: ignore[no-untyped-def]
    use_model: None, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "store"
    env = {**os.environ, "QA_EMBED_PRECISION": "fp32"}  # the same model as the session's
    process = subprocess.Popen([sys.executable, "-m", "index", "add", str(articles), "--store",
                                str(folder)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    kill_in_write(process, folder, burst, delay)
    store = open_store(str(folder), None, MODEL_NAME)
    complete, chunks = store.count()
    held = check_answers(store, articles, embedder)
    assert index_main(["add", str(articles), "--store", str(folder)]) == 0
    summary = capsys.readouterr().out
    assert snapshot(store, embedder) == clean
    assert f"{N_DOCS - complete} new, 0 updated, {complete} unchanged" in summary
    with capsys.disabled():
        print(f"\nkilled with {complete} complete articles, {chunks} chunks of {held} articles; "
              f"then: {summary.strip()}")


def test_questions_are_answered_while_articles_are_added(
    embedder, tmp_path: Path, capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
) -> None:
    service = Service(open_store(str(tmp_path / "store"), None, MODEL_NAME), embedder)
    service.add_uploads([(p.name, p.read_bytes()) for p in sorted(SAMPLES.iterdir())])
    lines = (EVAL / "docs.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)[:40]
    uploads = [(f"part{i}.jsonl", "".join(lines[i : i + 5]).encode()) for i in range(0, 40, 5)]
    errors: list[BaseException] = []
    adder = threading.Thread(target=add_each, args=(service, uploads, errors))
    asked = 0
    adder.start()
    while adder.is_alive() or not asked:
        result = service.ask(KILLED)
        assert result.answerable and "Zapata" in result.answer
        asked += 1
    adder.join()
    assert not errors, errors
    assert service.health()["articles"] == 42
    added = {json.loads(line)["id"] for line in lines}
    questions = [q for q in read_jsonl(EVAL / "questions.jsonl")
                 if q["answerable"] and q["gold_doc_ids"][0] in added][-3:]
    found = [q["gold_doc_ids"][0] in {p.doc_id for p in service.ask(q["question"]).passages}
             for q in questions]
    assert sum(found) >= 2, found
    with capsys.disabled():
        print(f"\n{asked} questions answered while 40 articles were added in 8 uploads")


def add_each(service: Service, uploads: list[tuple[str, bytes]],
             errors: list[BaseException]) -> None:
    """Add the uploads one by one (a thread's target: errors are collected, not raised)."""
    try:
        for upload in uploads:
            assert service.add_uploads([upload]).new == 5
    except BaseException as exc:  # reported by the test in its own thread
        errors.append(exc)


def test_a_question_does_not_wait_for_another_questions_corpus_rebuild(
    embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """After a write, the first question rebuilds the BM25 corpus (seconds on a large store);
    the questions asked meanwhile use the previous corpus instead of queueing behind it."""
    from qa import service as service_module

    service = Service(open_store(str(tmp_path / "store"), None, MODEL_NAME), embedder)
    service.add_uploads([(p.name, p.read_bytes()) for p in sorted(SAMPLES.iterdir())])
    service.ask(KILLED)
    sample_chunks = len(service.corpus().documents)
    service.add_uploads([("ferry.txt", b"The Tollund ferry\n\nThe Tollund ferry was painted "
                          b"violet in 1987 by the harbour master Ingrid Vasquez.")])
    loading, release = threading.Event(), threading.Event()
    real_load = service_module.load_corpus

    def slow_load(store: Store) -> Any:
        loading.set()
        release.wait(10)
        return real_load(store)

    monkeypatch.setattr(service_module, "load_corpus", slow_load)
    answers: list[str] = []
    rebuilder = threading.Thread(
        target=lambda: answers.append(service.ask("Who painted the Tollund ferry?").answer))
    rebuilder.start()
    assert loading.wait(30)
    started = time.monotonic()
    meanwhile = service.ask(KILLED)
    waited = time.monotonic() - started
    release.set()
    rebuilder.join(30)
    assert "Zapata" in meanwhile.answer and waited < 5, f"waited {waited:.1f} s for the rebuild"
    assert answers and "Vasquez" in answers[0]
    assert service.corpus() is service.corpus()
    assert len(service.corpus().documents) == sample_chunks + 1  # the ferry's one chunk
