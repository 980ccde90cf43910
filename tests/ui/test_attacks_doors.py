"""Issue 21 ("Doors, round two"), the findings about what a request may cost and who may call
what, tried as an attacker would against real `python -m ui` processes on loopback (the
helpers and modes of tests/ui/test_attacks.py). Each test failed before its fix."""

from __future__ import annotations

import json
import random
import string
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.ui.conftest import MODES, READ, USER, WRITE, server_env, start, stop
from tests.ui.test_attacks import cpu_seconds, guesses

pytestmark = pytest.mark.slow
WRITER = {"Authorization": f"Bearer {WRITE}"}


@pytest.fixture(scope="module")
def doors(sample_store: Path, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[str, int, Path]]:
    """One server with no key at all (the local demo) and short login sessions."""
    temp = tmp_path_factory.mktemp("doors")
    process, url = start(sample_store, temp, {"QA_PAGE_COOKIE_HOURS": "0.001"})
    yield url, process.pid, temp
    stop(process)


@pytest.fixture(scope="module")
def login_server(sample_store: Path, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[str]:
    temp = tmp_path_factory.mktemp("login-short")
    process, url = start(sample_store, temp, {**MODES["login"], "QA_PAGE_COOKIE_HOURS": "0.001"})
    yield url
    stop(process)


def random_words(rng: random.Random, n: int) -> str:
    return " ".join("".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 8)))
                    for _ in range(n))


def server_cpu(pid: int, send: object) -> float:
    before = cpu_seconds(pid)
    send()  # type: ignore[operator]
    return cpu_seconds(pid) - before


# 1. High: no request costs a minute.

def test_the_costliest_question_costs_a_few_ordinary_ones(doors: tuple[str, int, Path]) -> None:
    url, pid, _ = doors
    rng = random.Random(21)
    history = ["and " + random_words(rng, 490) for _ in range(50)]  # every turn a follow-up
    with httpx.Client(base_url=url, timeout=120) as http:
        http.post("/api/ask", json={"question": "Who was killed at the fake roadblock?"})

        def hostile() -> None:
            answer = http.post("/api/ask", json={"question": "and what about it?", "k": 20,
                                                 "history": history})
            assert answer.status_code == 200, answer.text
            assert len(answer.json()["query"].split()) <= 4 + 8  # its words and 8 borrowed

        questions = iter(["Who was wounded at the roadblock?", "What did the cables say?",
                          "Where was Zapata assigned?", "Who ambushed the agents?"] * 3)

        def ordinary() -> None:
            assert http.post("/api/ask", json={"question": next(questions)}).status_code == 200

        costly = min(server_cpu(pid, hostile) for _ in range(2))
        usual = sorted(server_cpu(pid, ordinary) for _ in range(4))[1]
        assert costly < 6 * max(usual, 0.05), (costly, usual)  # was about 150x
        too_many = http.post("/api/ask", json={"question": "Who?", "k": 50})
        assert too_many.status_code == 400 and "between 1 and 20" in too_many.text


def test_one_client_gets_at_most_a_few_answers_at_once(doors: tuple[str, int, Path]) -> None:
    url, _, _ = doors
    rng = random.Random(7)
    statuses: list[int] = []

    def ask() -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            body = {"question": random_words(rng, 250)[:1900] + "?", "k": 20}
            statuses.append(http.post("/api/ask", json=body).status_code)

    threads = [threading.Thread(target=ask) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 429 in statuses and statuses.count(200) >= 4, statuses  # 10 at once were all run


# 4. Medium: pages behind a login and an API open for writes.

def test_a_login_for_the_pages_without_api_keys_does_not_start(tmp_path: Path) -> None:
    env = server_env({"QA_PAGES": "login", "QA_PAGE_USERS": ":".join(USER)}, tmp_path)
    done = subprocess.run([sys.executable, "-m", "ui", "--store", str(tmp_path / "store"),
                           "--port", "9"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1 and "set QA_API_KEYS" in done.stderr, done.stderr
    assert "correct horse" not in done.stderr


# 5. Medium-low: a Bearer header on the pages guesses keys as fast as ?key= did.

def test_bearer_guesses_on_the_pages_are_rate_limited(tight_server: tuple[str, int]) -> None:
    url, _ = tight_server
    tried = guesses(url, "127.0.0.8", lambda h, i: h.get(
        "/config", headers={"Authorization": f"Bearer guess-{i:016d}"}))
    assert 429 in tried, tried
    assets = guesses(url, "127.0.0.9", lambda h, i: h.get("/embed.js"), tries=12)
    assert 429 not in assets  # what carries no key is not counted


# 6. Low-medium: DNS rebinding with no keys.

def test_a_page_of_a_rebound_name_can_not_write_or_read(doors: tuple[str, int, Path]) -> None:
    url, _, _ = doors
    rebound = {"Host": "evil.example:7860", "Origin": "http://evil.example:7860"}
    with httpx.Client(base_url=url, timeout=30) as http:
        before = http.get("/api/documents").json()["documents"]
        added = http.post("/api/documents", headers=rebound, files={
            "files": ("x.txt", b"The rebinding article says the sky is green today.")})
        assert added.status_code == 400 and added.json()["error"]["code"] == "bad_host"
        removed = http.delete(f"/api/documents/{before[0]['doc_id']}", headers=rebound)
        assert removed.status_code == 400
        for path in ("/", "/embed/", "/api/documents", "/config"):
            assert http.get(path, headers=rebound).status_code == 400
        assert http.get("/api/documents").json()["documents"] == before
        assert http.get("/api/health", headers={"Host": "localhost"}).status_code == 200


# 7. and 8. Low: filters by the thousand; ids the API could not delete.

def test_thousands_of_filters_are_a_400_and_every_stored_id_can_be_deleted(
        doors: tuple[str, int, Path]) -> None:
    url, _, _ = doors
    with httpx.Client(base_url=url, timeout=60) as http:
        sources = [f"source-{i}" for i in range(11_000)]
        for path in ("/api/ask", "/api/ask/stream"):
            many = http.post(path, json={"question": "Who?", "filters": {"sources": sources}})
            assert many.status_code == 400 and many.json()["error"]["code"] == "bad_filter"
        article = {"id": "evil/../x", "title": "Slashes", "text": "The slash article is "
                   "about the otter Ruth who swims in the Oslo fjord every morning."}
        http.post("/api/documents", files={"files": ("a.jsonl", json.dumps(article).encode())})
        for doc in http.get("/api/documents").json()["documents"]:
            if "/" in doc["doc_id"]:
                quoted = doc["doc_id"].replace("/", "%2F")
                removed = http.delete(f"/api/documents/{quoted}")
                assert removed.status_code == 200, removed.text
                assert removed.json()["removed"] == doc["doc_id"]


# 9. Low: a state file per call of deep_link.

def test_deep_links_are_closed_and_write_nothing(doors: tuple[str, int, Path]) -> None:
    url, _, temp = doors
    folder = temp / "gradio"
    before = sorted(folder.rglob("*")) if folder.exists() else []
    with httpx.Client(base_url=url, timeout=30) as http:
        for prefix in ("", "/embed"):
            for _ in range(3):
                response = http.get(f"{prefix}/gradio_api/deep_link")
                assert response.status_code == 404 and set(response.json()) == {"error"}
    assert (sorted(folder.rglob("*")) if folder.exists() else []) == before


# 12. Loose ends: TRACE, the spec, sessions, the token route, cross-site logout, the cookie.

def test_trace_and_the_spec(doors: tuple[str, int, Path]) -> None:
    url, _, _ = doors
    with httpx.Client(base_url=url, timeout=30) as http:
        for path in ("/api/ask", "/api/nothing", "/"):
            traced = http.request("TRACE", path)
            assert traced.status_code == 405 and set(traced.json()) == {"error"}
        spec = http.get("/openapi.json").json()
        assert {"400", "401", "413", "429"} <= set(spec["paths"]["/api/ask"]["post"]["responses"])
        empty = http.post("/api/ask", json={"question": ""})
        assert empty.status_code in (400, 422) and set(empty.json()) == {"error"}


def test_login_sessions_expire_and_their_token_is_never_handed_out(login_server: str) -> None:
    with httpx.Client(base_url=login_server, timeout=30) as http:
        login = http.post("/login", data={"username": USER[0], "password": USER[1]})
        assert login.status_code == 200
        assert http.get("/config").status_code == 200
        token = http.get("/gradio_api/token")
        assert token.status_code == 404 and "token" not in token.json()
        cross = http.get("/logout", headers={"Sec-Fetch-Site": "cross-site"},
                         follow_redirects=False)
        assert cross.status_code == 403
        assert http.get("/config").status_code == 200  # still signed in
        time.sleep(4.0)  # QA_PAGE_COOKIE_HOURS=0.001: 3.6 s
        assert http.get("/config").status_code == 401


def test_the_page_cookie_is_not_a_hash_of_the_key_and_expires(
        tight_server: tuple[str, int]) -> None:
    import hashlib

    url, _ = tight_server
    with httpx.Client(base_url=url, timeout=30, transport=httpx.HTTPTransport(
            local_address="127.0.0.10")) as http:
        opened = http.get(f"/?key={READ}", follow_redirects=False)
        assert opened.status_code == 303
        cookie = opened.headers["set-cookie"]
        digest = hashlib.sha256(f"key:{READ}".encode()).digest()
        assert hashlib.sha256(b"page:" + digest).hexdigest() not in cookie
        assert "Max-Age=43200" in cookie
