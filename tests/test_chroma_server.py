"""Server mode against a real `chroma run` on loopback: the same index and ask commands, the
app through a server outage and restart, and two app processes sharing one server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from index.__main__ import main as index_main
from index.settings import read_settings
from qa.service import Service
from qa.serving.api import create_api
from qa.serving.cli import main as qa_main
from qa.settings import ALL_SETTINGS
from tests.conftest import ROOT, SAMPLES, ChromaServer, free_port, serve, wait_until_up

pytestmark = pytest.mark.slow


@pytest.fixture
def chroma_url(chroma_server: ChromaServer) -> str:
    return chroma_server.url


def test_index_and_ask_through_a_chroma_server(
    chroma_url: str, use_model: None, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert index_main(["add", str(SAMPLES), "--chroma-url", chroma_url]) == 0
    assert "2 new" in capsys.readouterr().out
    monkeypatch.setenv("QA_CHROMA_URL", chroma_url)
    assert index_main(["add", str(SAMPLES)]) == 0
    assert "2 unchanged" in capsys.readouterr().out
    assert qa_main(["ask", "Who was killed at the fake roadblock?", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["answerable"] and "Zapata" in data["answer"]


def test_an_unreachable_server_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert index_main(["stats", "--chroma-url", url]) == 1
    err = capsys.readouterr().err
    assert f"Cannot open the Chroma server at {url}" in err and "Traceback" not in err


KILLED = "Who was killed at the fake roadblock?"
SAMPLE_FILES = [("files", (p.name, p.read_bytes(), "text/plain")) for p in sorted(SAMPLES.iterdir())]
NEW_FACT = ("The Tollund ferry\n\nThe Tollund ferry was painted violet in 1987 by the harbour "
            "master Ingrid Vasquez, who chose the colour after a dream about plums.")
NEW_QUESTION = "Who painted the Tollund ferry violet?"


def store_calls() -> list[tuple[str, str, dict[str, Any]]]:
    """One request to every route that reaches the store."""
    ask = {"json": {"question": KILLED}}
    return [("POST", "/api/ask", ask), ("POST", "/api/ask/stream", ask),
            ("GET", "/api/documents", {}), ("GET", "/api/health", {}),
            ("POST", "/api/documents", {"files": [("files", ("new.txt", NEW_FACT.encode()))]})]


def test_a_stopped_chroma_server_is_a_503_and_its_restart_recovers_without_the_app(
    chroma_server: ChromaServer, use_model: None,
) -> None:
    service = Service.open(None, chroma_server.url, read_settings(ALL_SETTINGS))
    with serve(create_api(service, read_settings(ALL_SETTINGS))) as base, \
            httpx.Client(base_url=base, timeout=30) as http:
        assert http.post("/api/documents", files=SAMPLE_FILES).json()["new"] == 2
        assert http.post("/api/ask", json={"question": KILLED}).status_code == 200
        chroma_server.stop(kill=True)
        slowest = 0.0
        for method, path, kwargs in store_calls():
            started = time.monotonic()
            response = http.request(method, path, **kwargs)
            assert response.status_code == 503, (path, response.text)
            error = response.json()["error"]
            assert error["code"] == "store_unavailable", (path, error)
            assert f"The Chroma server at {chroma_server.url} is unreachable" in error["message"]
            slowest = max(slowest, time.monotonic() - started)
        assert slowest < 5, "an outage must fail fast"
        up = chroma_server.start()
        started = time.monotonic()
        response = http.post("/api/ask", json={"question": KILLED})
        assert response.status_code == 200 and "Zapata" in response.json()["answer"]
        print(f"\n503s in at most {slowest:.3f} s; chroma restarted in {up:.2f} s; the first ask "
              f"after it: 200 in {time.monotonic() - started:.2f} s")
        assert http.get("/api/health").json()["articles"] == 2


def test_a_chroma_server_restarted_empty_is_a_503_that_says_so(
    chroma_server: ChromaServer, use_model: None, tmp_path: Path,
) -> None:
    service = Service.open(None, chroma_server.url, read_settings(ALL_SETTINGS))
    with serve(create_api(service, read_settings(ALL_SETTINGS))) as base:
        chroma_server.stop()
        chroma_server.path = tmp_path / "an-empty-folder"
        chroma_server.start()
        response = httpx.get(f"{base}/api/health", timeout=30)
    assert response.status_code == 503
    assert "no longer has the collection" in response.json()["error"]["message"]


def test_a_stuck_chroma_server_is_a_503_after_the_timeout_not_a_hang(
    chroma_server: ChromaServer, use_model: None, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("index.store.TIMEOUT", (1.0, 1.0))
    service = Service.open(None, chroma_server.url, read_settings(ALL_SETTINGS))
    assert chroma_server.process
    with serve(create_api(service, read_settings(ALL_SETTINGS))) as base:
        chroma_server.process.send_signal(signal.SIGSTOP)  # up, listening, never answering
        try:
            started = time.monotonic()
            response = httpx.get(f"{base}/api/health", timeout=30)
            waited = time.monotonic() - started
        finally:
            chroma_server.process.send_signal(signal.SIGCONT)
    print(f"\na stuck server: 503 after {waited:.2f} s with a 1 s timeout")
    assert response.status_code == 503 and waited < 5
    assert "unreachable (timed out)" in response.json()["error"]["message"]


@contextmanager
def replica(url: str, tmp_path: Path, name: str) -> Iterator[str]:
    """`python -m ui --chroma-url URL` in its own process on a free port; yields its base URL."""
    port = free_port()
    env = {**os.environ, "GRADIO_TEMP_DIR": str(tmp_path / name / "gradio"),
           "QA_EMBED_PRECISION": "fp32"}  # both replicas the same model, whatever is installed
    with open(tmp_path / f"{name}.log", "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "ui", "--chroma-url", url,
                                    "--port", str(port)], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=15)


def ask(base: str, question: str) -> dict[str, Any]:
    response = httpx.post(f"{base}/api/ask", json={"question": question}, timeout=60)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_two_app_processes_share_one_chroma_server(
    chroma_server: ChromaServer, tmp_path: Path,
) -> None:
    with ExitStack() as stack:
        one, two = (stack.enter_context(replica(chroma_server.url, tmp_path, name))
                    for name in ("one", "two"))
        started = time.monotonic()
        for base in (one, two):
            wait_until_up(f"{base}/api/health", 180, f"the app at {base}")
        print(f"\nboth replicas up in {time.monotonic() - started:.1f} s")
        upload = httpx.post(f"{one}/api/documents", files=SAMPLE_FILES, timeout=60)
        assert upload.json()["new"] == 2
        assert all("Zapata" in ask(base, KILLED)["answer"] for base in (one, two))
        fact = [("files", ("tollund.txt", NEW_FACT.encode(), "text/plain"))]
        assert httpx.post(f"{two}/api/documents", files=fact, timeout=60).json()["new"] == 1
        added = time.monotonic()
        found = ask(one, NEW_QUESTION)
        print(f"a document added on one replica was found on the other "
              f"{time.monotonic() - added:.2f} s later")
        assert "Vasquez" in found["answer"]
        assert {d["title"] for d in httpx.get(f"{one}/api/documents").json()["documents"]} >= {
            "The Tollund ferry"}
