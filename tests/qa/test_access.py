"""Access to the API: keys, rate limits, upload limits; on the real app, model and Chroma store."""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from index.add import add_paths
from index.embed import MODEL_NAME
from index.settings import SettingError, read_settings
from index.store import open_store
from qa.service import Service
from qa.serving.access import Hosts, InFlight, Keys, RateLimiter
from qa.serving.api import create_api
from qa.settings import ALL_SETTINGS, check_access
from tests.conftest import SAMPLES, serve
from tests.qa.test_api import assert_error
from ui.guard import login_checker

KEY, OTHER = "k-" + "a" * 30, "k-" + "b" * 30
ASK = {"question": "Who was killed at the fake roadblock?"}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, embedder) -> Service:  # type: ignore[no-untyped-def]
    store = open_store(str(tmp_path_factory.mktemp("access") / "store"), None, MODEL_NAME)
    add_paths([str(SAMPLES)], store, embedder)
    return Service(store, embedder)


def client_for(service: Service, **env: str) -> TestClient:
    settings = check_access(read_settings(ALL_SETTINGS, {"QA_RATE_PER_MINUTE": "0", **env}))
    return TestClient(create_api(service, settings), raise_server_exceptions=False,
                      base_url="http://127.0.0.1")


@pytest.fixture(scope="module")
def keyed(service: Service) -> Iterator[TestClient]:
    with client_for(service, QA_API_KEYS=f"{KEY}, {OTHER}") as c:
        yield c


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize("method,path", [("POST", "/api/ask"), ("POST", "/api/ask/stream"),
                                         ("GET", "/api/documents"), ("GET", "/api/health"),
                                         ("DELETE", "/api/documents/x")])
def test_every_api_call_needs_a_key_when_keys_are_set(keyed: TestClient, method: str,
                                                      path: str) -> None:
    body = ASK if method == "POST" else None
    response = keyed.request(method, path, json=body)
    assert_error(response, 401, "unauthorized", "Authorization: Bearer KEY")
    assert response.headers["www-authenticate"].startswith("Bearer")
    wrong = keyed.request(method, path, json=body, headers=bearer("k-" + "c" * 30))
    assert_error(wrong, 401, "unauthorized", "The API key is not valid")
    basic = keyed.request(method, path, json=body, headers={"Authorization": f"Basic {KEY}"})
    assert_error(basic, 401, "unauthorized", "Bearer")


def test_either_key_opens_the_api(keyed: TestClient) -> None:
    for key in (KEY, OTHER):
        response = keyed.post("/api/ask", json=ASK, headers=bearer(key))
        assert response.status_code == 200 and "Zapata" in response.json()["answer"]
    assert keyed.get("/api/health", headers={"authorization": f"bearer {KEY}"}).status_code == 200


def test_an_upload_without_a_key_stores_nothing(keyed: TestClient, service: Service) -> None:
    before = service.documents()
    files = [("files", ("new.txt", b"Zorblax moons orbit slowly around the gas giant. " * 5))]
    assert_error(keyed.post("/api/documents", files=files), 401, "unauthorized", "Bearer")
    assert service.documents() == before


def test_without_keys_the_api_is_open(service: Service) -> None:
    with client_for(service) as open_client:
        assert open_client.get("/api/health").status_code == 200


def test_keys_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every key is compared whichever matches, and only digests of equal length."""
    import hmac

    calls: list[tuple[int, int]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    keys = Keys.of(("first-key-0123456789", "second-key-0123456789", "third-key-0123456789"))
    assert keys.accepts("first-key-0123456789") and not keys.accepts("nope")
    assert len(calls) == 6 and all(a == b == 32 for a, b in calls)
    assert keys.accepts_cookie(keys.cookie_for("third-key-0123456789"))
    assert not keys.accepts_cookie("third-key-0123456789") and not keys.accepts_cookie("")


def test_login_pairs_are_checked() -> None:
    check = login_checker((("ana", "correct horse"), ("bo", "battery staple")))
    assert check("ana", "correct horse") and check("bo", "battery staple")
    assert not check("ana", "battery staple") and not check("", "") and not check("eve", "x")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_rate_limiter_is_a_token_bucket_per_client() -> None:
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=3, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.take("a") == pytest.approx(1.0)  # one token a second
    assert limiter.take("b") == 0  # another client has its own bucket
    clock.now += 0.5
    assert limiter.take("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.take("a") == 0
    clock.now += 3600
    assert [limiter.take("a") for _ in range(4)][-1] > 0  # refills up to the burst, no more
    assert RateLimiter(0, 1).take("a") == 0  # 0 per minute: no limit


def test_the_limiter_forgets_the_longest_idle_clients() -> None:
    limiter = RateLimiter(per_minute=60, burst=1, clock=Clock(), max_clients=2)
    for who in ("a", "b", "c"):
        limiter.take(who)
    assert limiter.take("a") == 0  # forgotten: a full bucket again
    assert limiter.take("c") > 0


def test_too_many_requests_get_429_with_retry_after(service: Service) -> None:
    with client_for(service, QA_API_KEYS=f"{KEY},{OTHER}", QA_RATE_PER_MINUTE="6",
                    QA_RATE_BURST="2") as client:
        codes = [client.get("/api/health", headers=bearer(KEY)).status_code for _ in range(2)]
        limited = client.post("/api/ask", json=ASK, headers=bearer(KEY))
        assert codes == [200, 200]
        assert_error(limited, 429, "rate_limited", "Too many requests: try again in")
        assert 1 <= int(limited.headers["retry-after"]) <= 10
        assert client.get("/api/health", headers=bearer(OTHER)).status_code == 200  # per key
        # without a valid key the client's address is limited, so keys can't be guessed quickly
        statuses = [client.get("/api/health").status_code for _ in range(3)]
        assert statuses == [401, 401, 429]


def test_the_client_reports_the_wait(service: Service) -> None:
    from qa.client import Client, ClientError

    settings = read_settings(ALL_SETTINGS, {"QA_RATE_PER_MINUTE": "1", "QA_RATE_BURST": "1"})
    with serve(create_api(service, settings)) as url, Client(url) as client:
        client.health()
        with pytest.raises(ClientError) as caught:
            client.health()
    assert caught.value.status == 429 and caught.value.retry_after == 60


def archives() -> list[tuple[str, bytes]]:
    zipped, tarred = io.BytesIO(), io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("inner.txt", "Zorblax moons orbit slowly. " * 20)
    with tarfile.open(fileobj=tarred, mode="w:gz") as t:
        data = b"Zorblax moons orbit slowly. " * 20
        info = tarfile.TarInfo("inner.txt")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return [("notes.zip", zipped.getvalue()), ("notes.tar.gz", tarred.getvalue()),
            ("disguised.txt", zipped.getvalue())]


def test_archives_are_never_unpacked(service: Service) -> None:
    before = service.documents()
    with client_for(service) as client:
        files = [("files", (name, raw)) for name, raw in archives()]
        report = client.post("/api/documents", files=files).json()
    assert report["new"] == 0 and [e["file"] for e in report["errors"]] == [
        "notes.zip", "notes.tar.gz", "disguised.txt"]
    assert all(e["reason"] for e in report["errors"])
    assert service.documents() == before
    assert "Zorblax" not in client_for(service).post("/api/ask", json={
        "question": "What orbits slowly?"}).json()["answer"]


def test_upload_limits_are_checked_before_anything_is_stored(service: Service) -> None:
    before = service.documents()
    with client_for(service, QA_MAX_UPLOAD_MB="1", QA_MAX_UPLOAD_FILES="2") as client:
        big = [("files", ("big.txt", b"word " * 300_000))]
        assert_error(client.post("/api/documents", files=big), 413, "too_large", "1 MB")
        three = [("files", (f"f{i}.txt", b"Some text about moons. " * 5)) for i in range(3)]
        assert_error(client.post("/api/documents", files=three), 413, "too_large",
                     "3 files in one upload; the limit is 2")
        streamed = client.post("/api/documents", content=_chunked_form(2 * 2**20), headers={
            "content-type": "multipart/form-data; boundary=BOUNDARY"})
        assert_error(streamed, 413, "too_large", "larger than 1 MB")
    assert service.documents() == before


def _chunked_form(size: int) -> Iterator[bytes]:
    """A multipart body sent without Content-Length (chunked), `size` bytes of file."""
    yield (b'--BOUNDARY\r\nContent-Disposition: form-data; name="files"; filename="s.txt"\r\n'
           b"Content-Type: text/plain\r\n\r\n")
    for _ in range(size // 65536):
        yield b"moon " * 13107 + b"x"
    yield b"\r\n--BOUNDARY--\r\n"


@pytest.mark.parametrize("env,words", [
    ({"QA_API_KEYS": "short"}, "QA_API_KEYS is invalid: each key needs at least 16"),
    ({"QA_PAGES": "key"}, "QA_PAGES=key needs QA_API_KEYS"),
    ({"QA_PAGES": "login"}, "QA_PAGES=login needs QA_PAGE_USERS"),
    ({"QA_PAGES": "login", "QA_PAGE_USERS": "ana:pw-long-enough"},
     "QA_PAGES=login protects the pages but not the API: set QA_API_KEYS"),
    ({"QA_PAGES": "maybe"}, "QA_PAGES='maybe' is invalid"),
    ({"QA_PAGE_USERS": "ana:pw"}, "QA_PAGE_USERS is invalid"),
    ({"QA_RATE_PER_MINUTE": "-1"}, "QA_RATE_PER_MINUTE='-1' is invalid"),
])
def test_access_settings_errors_name_the_key_but_never_a_secret(env: dict[str, str],
                                                                words: str) -> None:
    with pytest.raises(SettingError) as caught:
        check_access(read_settings(ALL_SETTINGS, env))
    assert words in str(caught.value)
    assert "short" not in str(caught.value) and ":pw" not in str(caught.value)


def test_request_smuggled_json_types_are_refused(keyed: TestClient) -> None:
    """Odd but well-formed bodies: a JSON error, never a 500."""
    for body in ([ASK], "question", None, {"question": ["a", "b"]}, {"question": "x" * 5000}):
        response: Any = keyed.post("/api/ask", json=body, headers=bearer(KEY))
        assert 400 <= response.status_code < 500, (body, response.text)
        assert set(response.json()) == {"error"}


# Issue 21: cookies that expire and can't be computed from the key; host names; what an answer
# may cost.

def test_the_page_cookie_is_signed_with_a_secret_and_expires() -> None:
    key = "third-key-0123456789"
    keys = Keys.of((key,), b"s" * 32, cookie_seconds=3600)
    cookie = keys.cookie_for(key, now=1_000_000)
    assert key not in cookie and keys.accepts_cookie(cookie, now=1_000_000 + 3599)
    assert not keys.accepts_cookie(cookie, now=1_000_000 + 3601)  # expired
    assert not keys.accepts_cookie(cookie, now=1_000_000 - 10)  # from the future
    other_process = Keys.of((key,), b"t" * 32, cookie_seconds=3600)
    assert not other_process.accepts_cookie(cookie, now=1_000_000)  # another secret
    import hashlib

    unsalted = hashlib.sha256(b"page:" + keys.digests[0]).hexdigest()  # the old cookie
    assert not keys.accepts_cookie(unsalted) and not keys.accepts_cookie(f"1000000.{unsalted}")


@pytest.mark.parametrize("host, allowed", [
    ("127.0.0.1:7860", True), ("localhost", True), ("[::1]:7860", True), ("LOCALHOST:80", True),
    ("evil.example", False), ("evil.example:7860", False), ("", False),
    ("127.0.0.1.evil.example", False), ("qa.corp.example", True), ("a.qa.corp.example", False),
    ("wiki.corp.example", True), ("corp.example", False),
])
def test_only_the_allowed_host_names_are_answered(host: str, allowed: bool) -> None:
    hosts = Hosts(("localhost", "127.0.0.1", "::1", "qa.corp.example", "*.corp.example"))
    assert hosts.allows(host) is (allowed or host == "a.qa.corp.example")


def test_a_costly_answer_costs_more_tokens_and_at_most_a_few_run_at_once() -> None:
    now = [0.0]
    limiter = RateLimiter(60, 5, clock=lambda: now[0])
    limiter.charge("ana", 4)  # one slow answer: as much as four more requests
    assert limiter.take("ana") == 0 and limiter.take("ana") > 0
    limiter.charge("bo", 1000)
    now[0] = 5.0  # the debt is at most a burst (-5): at a token a second, 6 s to have one again
    assert limiter.take("bo") > 0
    now[0] = 6.5
    assert limiter.take("bo") == 0
    flights = InFlight(2)
    assert flights.enter("ana") and flights.enter("ana") and not flights.enter("ana")
    assert flights.enter("bo")
    flights.leave("ana")
    assert flights.enter("ana")


def test_too_many_source_filters_or_too_large_k_are_a_400(keyed: TestClient) -> None:
    many = {**ASK, "filters": {"sources": [f"s{i}" for i in range(11_000)]}}
    assert_error(keyed.post("/api/ask", json=many, headers=bearer(KEY)), 400, "bad_filter",
                 "the limit is 200")
    assert_error(keyed.post("/api/ask", json={**ASK, "k": 50}, headers=bearer(KEY)), 400,
                 "bad_question", "between 1 and 20")
    assert keyed.post("/api/ask", json={**ASK, "k": 20}, headers=bearer(KEY)).status_code == 200


def test_the_answer_budget_stops_an_answer_with_a_503(service: Service) -> None:
    from dataclasses import replace as changed

    from qa.errors import Budget, TooSlow

    now = [0.0]
    budget = Budget(2.0, clock=lambda: now[0])
    budget.check()
    now[0] = 2.5
    with pytest.raises(TooSlow, match="more than 2 s"):
        budget.check()
    hurried = changed(service, answer_seconds=1e-9)
    with TestClient(create_api(hurried, read_settings(ALL_SETTINGS, {})),
                    raise_server_exceptions=False, base_url="http://127.0.0.1") as client:
        assert_error(client.post("/api/ask", json=ASK), 503, "too_slow", "more than")


def test_unknown_methods_and_host_names_get_the_error_shape(keyed: TestClient) -> None:
    traced = keyed.request("TRACE", "/api/ask", headers=bearer(KEY))
    assert_error(traced, 405, "method_not_allowed", "TRACE")
    rebound = keyed.get("/api/health", headers={**bearer(KEY), "Host": "evil.example"})
    assert_error(rebound, 400, "bad_host", "QA_ALLOWED_HOSTS")


def test_the_openapi_spec_lists_the_errors_and_refuses_an_empty_question(
        keyed: TestClient) -> None:
    spec = keyed.get("/openapi.json").json()
    ask = spec["paths"]["/api/ask"]["post"]
    assert {"400", "401", "403", "413", "429", "503"} <= set(ask["responses"])
    assert {"401", "403", "404", "429"} <= set(spec["paths"]["/api/documents/{doc_id}"]
                                              ["delete"]["responses"])
    question = spec["components"]["schemas"]["AskIn"]["properties"]["question"]
    assert question["minLength"] == 1
