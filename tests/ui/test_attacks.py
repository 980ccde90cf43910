"""The findings of issue 13, tried as an attacker would against a real `python -m ui` process on
loopback: through `/` and `/embed/`, with and without keys, with QA_PAGES open, key and login.

Each server is its own process over its own copy of the sample store; the rate limit is off on
all but the `tight` one, which tests the limits themselves (each check from its own loopback
address, so that one check's spent tokens don't count against the next)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import slower
from tests.ui.conftest import (  # noqa: F401  (server_env: for the other attack modules)
    MODES,
    READ,
    SECRET,
    USER,
    WRITE,
    server_env,
    start,
    stop,
)

pytestmark = pytest.mark.slow
PREFIXES = ("", "/embed")


class Server:
    """A running `python -m ui` and what a test needs to talk to it."""

    def __init__(self, url: str, mode: str, temp: Path, secret: Path) -> None:
        self.url, self.mode, self.temp, self.secret = url, mode, temp, secret

    @contextmanager
    def visitor(self) -> Iterator[httpx.Client]:
        """A page visitor as the mode lets one in without write rights: nobody, a wiki reader
        holding the read key (QA_PAGES=key), a signed-in user (QA_PAGES=login)."""
        with httpx.Client(base_url=self.url, timeout=60) as http:
            self.enter(http)
            yield http

    def enter(self, http: httpx.Client) -> None:
        if self.mode == "key":
            assert http.get(f"/?key={READ}").status_code == 303
        if self.mode == "login":
            for prefix in PREFIXES:
                login = http.post(f"{prefix}/login", data=dict(zip(("username", "password"),
                                                                   USER, strict=True)))
                assert login.status_code == 200, login.text


@pytest.fixture(scope="module", params=list(MODES))
def server(request: pytest.FixtureRequest, sample_store: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    temp = tmp_path_factory.mktemp(request.param)
    secret = temp / "secret.txt"  # a readable server file, of a type the app indexes
    secret.write_text(SECRET + "\n", encoding="utf-8")
    process, url = start(sample_store, temp, MODES[request.param])
    yield Server(url, request.param, temp, secret)
    stop(process)


def call(http: httpx.Client, prefix: str, name: str, data: list[Any]) -> tuple[int, str]:
    """A Gradio event called by name (POST then GET of its result): the status and every byte
    the server sent back."""
    started = http.post(f"{prefix}/gradio_api/call/{name}", content=json.dumps({"data": data}),
                        headers={"content-type": "application/json"})  # ASCII: "\ud800" too
    if started.status_code != 200:
        return started.status_code, started.text
    result = http.get(f"{prefix}/gradio_api/call/{name}/{started.json()['event_id']}")
    return result.status_code, result.text


def forged(path: str) -> dict[str, Any]:
    return {"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": Path(path).name}


def leaked(text: str) -> bool:
    return any(s in text for s in ("root:x:0:0", "QA_API_KEYS", WRITE, "4417-ZETA"))


def no_copies_in_gradio_folder(server: Server) -> None:
    folder = server.temp / "gradio"
    for path in folder.rglob("*") if folder.exists() else ():
        if path.is_file():
            assert not leaked(path.read_text("utf-8", "replace")), path


# 1. Critical: no server file is copied, served or indexed through a forged FileData.

@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_forged_file_in_any_chat_input_reads_nothing(server: Server, prefix: str) -> None:
    with server.visitor() as http:
        for target in ("/etc/passwd", "/proc/self/environ", str(server.secret)):
            file = forged(target)
            for slot in range(6):  # question, history, articles, dates, scope
                data: list[Any] = ["Who was killed at the fake roadblock?", [], [], "", "", []]
                data[slot] = [{"role": "user", "content": file}] if slot == 1 else file
                status, text = call(http, prefix, "chat", data)
                assert status in (200, 404, 422) and "gradio_api/file=" not in text
                assert not leaked(text)
            served = http.get(f"{prefix}/gradio_api/file={target}")
            assert served.status_code == 403 and not leaked(served.text)
            assert served.json()["error"]["code"] == "forbidden"
    no_copies_in_gradio_folder(server)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_forged_path_in_the_upload_event_indexes_nothing(server: Server, prefix: str) -> None:
    writer = {"Authorization": f"Bearer {WRITE}"}
    with server.visitor() as http:
        for target in ("/etc/passwd", "/proc/self/environ", str(server.secret)):
            for headers in ({}, writer):
                http.headers.update(headers)
                status, text = call(http, prefix, "upload", [[forged(target)]])
                assert not leaked(text) and "Indexed" not in text
                assert status == 404 if prefix else "event: error" in text
        asked = http.post("/api/ask", json={"question": "What is the vault code of Quentin "
                                            "Marlowe?"}, headers=writer)
        assert asked.status_code == 200 and not leaked(asked.text)
    no_copies_in_gradio_folder(server)


# 2. High: no anonymous writes.

def test_only_a_read_write_key_adds_articles_from_the_page(server: Server) -> None:
    article = {"files": ("zebra.txt", b"The zebra Quincy has lived in the Oslo zoo since 2019.")}
    with server.visitor() as http:
        upload = http.post("/gradio_api/upload", files=article)
        if server.mode == "open":  # no key set at all: the local demo, everything is open
            assert upload.status_code == 200
            return
        assert upload.status_code == 403 and upload.json()["error"]["code"] == "forbidden"
        http.headers["Authorization"] = f"Bearer {READ}"
        assert http.post("/gradio_api/upload", files=article).status_code == 403
        assert http.post("/api/documents", files=article).status_code in (401, 403)
        assert http.delete("/api/documents/anything").status_code in (401, 403)
        assert http.post("/embed/gradio_api/upload", files=article).status_code == 403
        http.headers["Authorization"] = f"Bearer {WRITE}"
        paths = http.post("/gradio_api/upload", files=article).json()
        del http.headers["Authorization"]  # a reader replays the writer's upload: refused
        status, text = call(http, "", "upload", [[forged(paths[0])]])
        assert "read-write key" in text and "Indexed" not in text
        assert call(http, "/embed", "upload", [[forged(paths[0])]])[0] == 404
        http.headers["Authorization"] = f"Bearer {WRITE}"
        status, text = call(http, "", "upload", [[forged(paths[0])]])
        assert "Indexed: 1 new" in text and not Path(paths[0]).exists()  # read, then deleted


# 3. and 4. High/medium: bounded input, no stall, no unbounded body.

def test_hostile_history_and_bodies_are_refused_before_work(server: Server) -> None:
    headers = {"Authorization": f"Bearer {WRITE}"} if server.mode != "open" else {}
    with httpx.Client(base_url=server.url, timeout=60, headers=headers) as http:
        question = "and who was wounded?"

        def hostile() -> httpx.Response:  # the longest turn allowed, of what backtracked
            return http.post("/api/ask", json={"question": question,
                                                "history": ["-.'" * 1333 + "a"]})

        def benign() -> httpx.Response:  # as long, in words: as long a query to embed
            words = " ".join(f"w{i}" for i in range(1000))[:3999]
            return http.post("/api/ask", json={"question": question, "history": [words]})

        assert hostile().status_code == 200
        assert slower(hostile, benign) < 3
        over = http.post("/api/ask", json={"question": question, "history": ["-" * 20_000]})
        assert over.status_code == 400 and "earlier turn" in over.text
        many = http.post("/api/ask", json={"question": question, "history": ["Who?"] * 51})
        assert many.status_code == 400 and "limit is 50" in many.text
        huge = http.post("/api/ask", content=b'{"question": "' + b"a" * 3_000_000 + b'"}',
                         headers={"content-type": "application/json"})
        assert huge.status_code == 413 and huge.json()["error"]["code"] == "too_large"
        long = http.post("/api/ask", json={"question": "why " * 10_000})
        assert long.status_code == 400 and "limit is 2000" in long.text


# 5. Medium: CORS only for the configured origins, on every route.

@pytest.mark.parametrize("path", ["/", "/embed/", "/gradio_api/info", "/embed/gradio_api/info",
                                  "/api/health", "/gradio_api/file=/etc/passwd", "/config"])
def test_another_site_gets_no_cors_grant(server: Server, path: str) -> None:
    if server.mode != "open-keys":
        pytest.skip("CORS does not depend on the keys: one mode is enough")
    evil = {"Host": "qa.example.com", "Origin": "http://evil.example"}
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for response in (http.get(path, headers=evil), http.options(path, headers={
                **evil, "Access-Control-Request-Method": "GET"})):
            assert "access-control-allow-origin" not in response.headers
            assert "access-control-allow-credentials" not in response.headers
        wiki = {"Origin": "http://localhost:8080", "Authorization": f"Bearer {READ}"}
        allowed = http.get(path, headers=wiki)
        assert allowed.headers.get("access-control-allow-origin") == "http://localhost:8080"
        assert "access-control-allow-credentials" not in allowed.headers


def test_another_site_can_not_post(server: Server) -> None:
    if server.mode != "open-keys":
        pytest.skip("one mode is enough")
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for path in ("/gradio_api/queue/join", "/embed/gradio_api/call/chat", "/api/ask"):
            refused = http.post(path, json={}, headers={"Origin": "http://evil.example"})
            assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"


# 6. Medium: a lone surrogate is a 400, not a 500.

def test_a_lone_surrogate_is_a_400_with_a_message(server: Server) -> None:
    headers = {"Authorization": f"Bearer {WRITE}", "content-type": "application/json"}
    with httpx.Client(base_url=server.url, timeout=30, headers=headers) as http:
        for body, code in ((r'{"question": "who\ud800?"}', "bad_question"),
                           (r'{"question": "who?", "filters": {"sources": ["\ud800"]}}',
                            "bad_filter"),
                           (r'{"question": "who?", "history": ["\udfff"]}', "bad_question")):
            for path in ("/api/ask", "/api/ask/stream"):
                response = http.post(path, content=body.encode())
                assert response.status_code == 400, response.text
                assert response.json()["error"]["code"] == code
    with server.visitor() as page:
        status, text = call(page, "", "chat", ["who\ud800?", None, [], "", "", []])
        assert "not valid text" in text and "Traceback" not in text


# 9. Low: keys and passwords can't be guessed quickly; no redirect off-site; no proxy trust by
# default; errors in one shape; no store path.

@pytest.fixture
def tight(tight_server: tuple[str, int]) -> str:
    return tight_server[0]


def guesses(url: str, source: str, send: Any, tries: int = 8) -> list[int]:
    with httpx.Client(base_url=url, timeout=30, transport=httpx.HTTPTransport(
            local_address=source)) as http:
        return [send(http, i).status_code for i in range(tries)]


def test_page_keys_and_passwords_are_rate_limited(tight: str) -> None:
    keys = guesses(tight, "127.0.0.2", lambda h, i: h.get(f"/?key=guess-{i:016d}"))
    assert 429 in keys
    logins = guesses(tight, "127.0.0.3", lambda h, i: h.post(
        "/login", data={"username": "ana", "password": f"guess-{i}"}))
    assert logins[:5] == [400] * 5 and 429 in logins
    spoofed = guesses(tight, "127.0.0.4", lambda h, i: h.get(
        f"/?key=guess-{i:016d}", headers={"X-Forwarded-For": f"10.0.0.{i}"}))
    assert 429 in spoofed  # X-Forwarded-For is not believed from an untrusted peer


def test_no_redirect_leaves_the_site(tight: str) -> None:
    with httpx.Client(base_url=tight, timeout=30, transport=httpx.HTTPTransport(
            local_address="127.0.0.5")) as http:
        response = http.get(f"{tight}//evil.example/path?key={READ}")
        location = response.headers["location"]
        assert response.status_code == 303 and location.startswith("/")
        assert not location.startswith("//") and "evil.example/path" in location


def test_every_api_error_has_the_one_shape_and_health_no_path(server: Server) -> None:
    if server.mode != "open-keys":
        pytest.skip("one mode is enough")
    with httpx.Client(base_url=server.url, timeout=30,
                      headers={"Authorization": f"Bearer {READ}"}) as http:
        for response, status in ((http.get("/api/nothing"), 404), (http.get("/api/ask"), 405),
                                 (http.put("/api/health", json={}), 405),
                                 (http.get("/embed/gradio_api/call/upload"), 404)):
            assert response.status_code == status and set(response.json()) == {"error"}
        health = http.get("/api/health").json()
        assert health["store"] == "embedded" and str(server.temp) not in json.dumps(health)


def test_unused_gradio_routes_are_closed(server: Server) -> None:
    if server.mode != "open-keys":
        pytest.skip("one mode is enough")
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for prefix in PREFIXES:
            for path in ("/gradio_api/proxy=http://127.0.0.1:1/", "/gradio_api/runs",
                         "/monitoring", "/gradio_api/file=http://example.com/x.txt",
                         "/gradio_api/file/etc/passwd"):
                response = http.get(prefix + path)
                assert response.status_code in (403, 404), (prefix, path, response.status_code)
            started = time.monotonic()
            assert http.post(prefix + "/gradio_api/component_server", json={}).status_code == 404
            assert time.monotonic() - started < 30


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_within(pid: int, seconds: float) -> bool:
    """Whether the process spends under a quarter of a core over some 2 s within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(2)
        if cpu_seconds(pid) - before < 0.5:
            return True
    return False


def test_an_upload_stops_when_its_client_gives_up(tight_server: tuple[str, int]) -> None:
    """A large upload whose client hung up used to keep the CPU busy for minutes."""
    url, pid = tight_server
    text = " ".join(f"Line {i} says the otter number {i % 997} swam {i % 13} miles east."
                    for i in range(80_000))  # about 5 MB: minutes of embedding here
    with httpx.Client(base_url=url, timeout=3, transport=httpx.HTTPTransport(
            local_address="127.0.0.6")) as http, pytest.raises(httpx.ReadTimeout):
        http.post("/api/documents", files={"files": ("otters.txt", text.encode())},
                  headers={"Authorization": f"Bearer {WRITE}"})
    assert idle_within(pid, 45)  # indexing it all takes minutes here: it was stopped
    with httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {READ}"},
                      transport=httpx.HTTPTransport(local_address="127.0.0.7")) as http:
        titles = [d["title"] for d in http.get("/api/documents").json()["documents"]]
        assert not any("otter" in t.lower() for t in titles)  # never half-stored


# 7. Medium-low: an article that repeats a question never answers it.

def test_an_article_echoing_a_question_does_not_answer_it(server: Server) -> None:
    if server.mode != "open-keys":
        pytest.skip("one mode is enough")
    writer = {"Authorization": f"Bearer {WRITE}"}
    echo = b"Notes\n\nWho was killed at the fake roadblock? Who was killed at the fake roadblock?\n"
    with httpx.Client(base_url=server.url, timeout=60, headers=writer) as http:
        added = http.post("/api/documents", files={"files": ("echo.txt", echo)})
        assert added.status_code == 200 and added.json()["new"] == 1
        answer = http.post("/api/ask", json={"question": "Who was killed at the fake roadblock?"})
        body = answer.json()
        assert "Zapata" in body["answer"]
        assert all(c["source"] != "upload:echo.txt" for c in body["citations"])
