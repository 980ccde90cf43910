"""The HTTP API on the real app (FastAPI TestClient), the real model and a real Chroma store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from index.add import add_paths
from index.embed import MODEL_NAME
from index.settings import read_settings
from index.store import open_store
from qa.service import Service
from qa.serving.api import create_api
from qa.serving.cli import main as qa_main
from qa.settings import ALL_SETTINGS
from tests.conftest import SAMPLES

KILLED = "Who was killed at the fake roadblock?"
WIKILEAKS = "001_6af38f333212537e"


def make_client(service: Service, env: dict[str, str] | None = None) -> TestClient:
    """The app without rate limits (tests/qa/test_access.py tests those): these tests send
    more requests a second than the default allows one client."""
    settings = read_settings(ALL_SETTINGS, {"QA_RATE_PER_MINUTE": "0", **(env or {})})
    return TestClient(create_api(service, settings), raise_server_exceptions=False,
                      base_url="http://127.0.0.1")


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("api") / "store")


@pytest.fixture(scope="module")
def client(store_path: str, embedder) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    store = open_store(store_path, None, MODEL_NAME)
    add_paths([str(SAMPLES)], store, embedder)
    with make_client(Service(store, embedder)) as c:
        yield c


def assert_error(response: Any, status: int, code: str, words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(response.json()) == {"error"} and set(error) == {"code", "message"}
    assert error["code"] == code and words in error["message"], error


def doc_id_of(client: TestClient, stem: str) -> str:
    return next(d["doc_id"] for d in client.get("/api/documents").json()["documents"]
                if d["doc_id"].startswith(stem))


def test_ask_returns_the_same_object_as_the_cli(client: TestClient, store_path: str,
                                                 use_model: None, capsys: Any) -> None:
    response = client.post("/api/ask", json={"question": KILLED})
    assert response.status_code == 200
    assert qa_main(["ask", KILLED, "--json", "--store", store_path]) == 0
    assert response.json() == json.loads(capsys.readouterr().out)
    assert response.json()["answerable"] and "Zapata" in response.json()["answer"]


def test_a_follow_up_is_searched_with_the_history(client: TestClient) -> None:
    history = [{"role": "user", "content": KILLED}, {"role": "assistant", "content": "Zapata [1]"}]
    data = client.post("/api/ask", json={"question": "and who was wounded?",
                                         "history": history}).json()
    assert data["question"] == "and who was wounded?"
    assert data["query"] == "who was wounded? (killed fake roadblock)"
    assert "wounded" in data["citations"][0]["quote"]


def test_filters_and_k_shape_the_retrieval(client: TestClient) -> None:
    wikileaks = doc_id_of(client, WIKILEAKS)
    data = client.post("/api/ask", json={"question": "What did U.S. officials express?", "k": 2,
                                         "filters": {"sources": [wikileaks]}}).json()
    assert len(data["passages"]) == 2 and {p["doc_id"] for p in data["passages"]} == {wikileaks}
    none = client.post("/api/ask", json={"question": KILLED, "filters": {"date_from": "2030"}})
    assert_error(none, 400, "bad_filter", "No stored article matches these filters (from 2030)")
    typo = client.post("/api/ask", json={"question": KILLED, "filters": {"sources": ["nope"]}})
    assert_error(typo, 400, "bad_filter", "source 'nope'")


@pytest.mark.parametrize("body, status, code, words", [
    (b"{not json", 400, "bad_json", "not valid JSON"),
    ({"question": "   "}, 400, "bad_question", "question is empty"),
    ({"question": "x" * 2001}, 400, "bad_question", "limit is 2000"),
    ({"question": "x", "filters": {"date_to": "last week"}}, 400, "bad_filter", "date_to"),
    ({"question": "x", "k": 0}, 422, "invalid_request", "k:"),
    ({"question": "x", "k": "many"}, 422, "invalid_request", "k:"),
    ({"question": 5}, 422, "invalid_request", "question"),
    ({"questio": "typo"}, 422, "invalid_request", "question"),
    ({"question": "x", "filters": {"source": ["a"]}}, 422, "invalid_request", "filters.source"),
    ([1, 2], 422, "invalid_request", "body"),
])
@pytest.mark.parametrize("path", ["/api/ask", "/api/ask/stream"])
def test_bad_input_is_a_4xx_with_a_message(client: TestClient, path: str, body: Any, status: int,
                                          code: str, words: str) -> None:
    if isinstance(body, bytes):
        response = client.post(path, content=body, headers={"content-type": "application/json"})
    else:
        response = client.post(path, json=body)
    assert_error(response, status, code, words)


def test_unknown_routes_and_methods_share_the_error_shape(client: TestClient) -> None:
    assert_error(client.get("/api/nothing"), 404, "not_found", "No API route /api/nothing")
    response = client.get("/api/ask")
    assert_error(response, 405, "method_not_allowed", "GET is not allowed here; use POST")
    assert response.headers["allow"] == "POST"


def read_events(client: TestClient, body: dict[str, Any]) -> list[tuple[str, Any]]:
    with client.stream("POST", "/api/ask/stream", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = response.read().decode()
    events = []
    for block in text.strip().split("\n\n"):
        kind, data = block.split("\n", 1)
        events.append((kind.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return events


def test_the_stream_sends_tokens_then_citations_then_the_whole_answer(client: TestClient) -> None:
    events = read_events(client, {"question": KILLED})
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "done" and kinds.count("done") == 1 and kinds.count("token") == 1  # extractive: whole
    assert kinds.index("citation") > max(i for i, k in enumerate(kinds) if k == "token")
    done = events[-1][1]
    assert "".join(d["text"] for k, d in events if k == "token") == done["answer"]
    assert [d for k, d in events if k == "citation"] == done["citations"]
    assert done == client.post("/api/ask", json={"question": KILLED}).json()


def test_documents_upload_ask_and_remove(client: TestClient, tmp_path: Path) -> None:
    assert len(client.get("/api/documents").json()["documents"]) == 2
    note = b"Zorblax Station\n\nThe Zorblax station opened in 2031 with twelve docking bays.\n"
    files = [("files", ("../../etc/zorblax.txt", note, "text/plain")),
             ("files", ("tool.exe", b"MZ\x00\x01", "application/octet-stream"))]
    report = client.post("/api/documents", files=files).json()
    assert (report["new"], report["chunks"]) == (1, 1)
    assert report["errors"] == [{"file": "tool.exe", "reason": "unsupported file type .exe; "
                                 "expected one of .txt, .md, .html, .htm, .jsonl"}]
    assert not (tmp_path.parent / "etc").exists()
    data = client.post("/api/ask", json={"question": "How many docking bays has Zorblax?"}).json()
    assert data["citations"][0]["source"] == "upload:zorblax.txt"
    doc_id = data["citations"][0]["doc_id"]
    again = client.post("/api/documents", files=files[:1]).json()
    assert (again["new"], again["unchanged"]) == (0, 1)
    assert client.delete(f"/api/documents/{doc_id}").json() == {"removed": doc_id}
    assert_error(client.delete(f"/api/documents/{doc_id}"), 404, "not_found", doc_id)
    assert len(client.get("/api/documents").json()["documents"]) == 2


def test_uploads_over_the_size_limit_are_refused(embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    service = Service(open_store(str(tmp_path / "s"), None, MODEL_NAME), embedder)
    with make_client(service, {"QA_MAX_UPLOAD_MB": "1"}) as small:
        big = [("files", ("big.txt", b"word " * 300_000, "text/plain"))]
        assert_error(small.post("/api/documents", files=big), 413, "too_large", "1 MB")
        assert_error(small.post("/api/documents"), 422, "invalid_request", "files")
        assert small.get("/api/documents").json() == {"documents": []}


def test_an_empty_store_says_how_to_fill_it(embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    service = Service(open_store(str(tmp_path / "s"), None, MODEL_NAME), embedder)
    with make_client(service) as empty:
        assert_error(empty.post("/api/ask", json={"question": KILLED}), 409, "empty_store",
                     "no articles yet")
        assert empty.get("/api/health").json()["articles"] == 0


def test_health_docs_and_framing_policy(client: TestClient, embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    health = client.get("/api/health")
    assert health.json()["status"] == "ok"
    assert health.json()["articles"] == 2 and health.json()["chunks"] >= 4  # the two samples
    assert health.headers["content-security-policy"] == (
        "frame-ancestors 'self' http://localhost:* http://127.0.0.1:*")
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/ask", "/api/ask/stream", "/api/documents", "/api/documents/{doc_id}",
            "/api/health"} <= set(paths)
    assert client.get("/docs").status_code == 200
    service = Service(open_store(str(tmp_path / "s"), None, MODEL_NAME), embedder)
    with make_client(service, {"QA_FRAME_ANCESTORS": "https://wiki.example.com"}) as wiki:
        assert wiki.get("/api/health").headers["content-security-policy"] == (
            "frame-ancestors https://wiki.example.com")
