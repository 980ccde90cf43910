"""Who may call what, how often, and how much they may upload: one ASGI middleware.

    app.add_middleware(AccessControl, policy=Policy.from_settings(settings))

- API keys (`QA_API_KEYS`): every `/api/*` call needs `Authorization: Bearer KEY`, compared in
  constant time; otherwise 401 in the API's JSON error shape.
- Pages (`QA_PAGES=key`): the chat and `/embed` need the same key, given once as `?key=KEY` (it is
  then kept in an HttpOnly cookie holding only a hash of it, and taken out of the address) or as a
  Bearer header. `QA_PAGES=login` is Gradio's own login form instead (see `ui.server`).
- Rate limits (`QA_RATE_PER_MINUTE`, `QA_RATE_BURST`): a token bucket per API key, or per client
  address without one, over `/api/*` and the chat's requests; 429 with `Retry-After` when empty.
- Upload size: a body over `QA_MAX_UPLOAD_MB` is refused with 413 as soon as it is known to be,
  before it is parsed or stored.

It is a plain ASGI middleware, so streamed answers pass through untouched.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa.settings import Settings

COOKIE = "qa_page_key"
UPLOAD_PATH = "/api/documents"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def json_error(status: int, code: str, message: str, headers: dict[str, str] | None = None
               ) -> JSONResponse:
    """The one error shape of the API: `{"error": {"code": ..., "message": ...}}`."""
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers=headers)


def _digest(text: str, purpose: str) -> bytes:
    return hashlib.sha256(f"{purpose}:{text}".encode()).digest()


@dataclass(frozen=True)
class Keys:
    """The accepted API keys, held as digests and compared in constant time. The page cookie that
    stands for a key is an HMAC of its digest and the time it was issued, under `secret` (random
    per process unless QA_COOKIE_SECRET is set), and expires after `cookie_seconds`."""

    digests: tuple[bytes, ...] = ()
    secret: bytes = b""
    cookie_seconds: int = 12 * 3600

    @classmethod
    def of(cls, keys: tuple[str, ...], secret: bytes = b"", cookie_seconds: int = 12 * 3600
           ) -> Keys:
        return cls(tuple(_digest(k, "key") for k in keys), secret or secrets.token_bytes(32),
                   cookie_seconds)

    def __bool__(self) -> bool:
        return bool(self.digests)

    def accepts(self, key: str) -> bool:
        return self._matches(_digest(key, "key"))

    def cookie_for(self, key: str, now: float | None = None) -> str:
        issued = str(int(time.time() if now is None else now))
        return f"{issued}.{self._seal(_digest(key, 'key'), issued)}"

    def accepts_cookie(self, value: str, now: float | None = None) -> bool:
        """True if the cookie was made by `cookie_for` from an accepted key, under this secret,
        and has not expired."""
        issued, _, seal = value.partition(".")
        age = (time.time() if now is None else now) - int(issued) if issued.isdigit() else -1
        if not 0 <= age <= self.cookie_seconds:
            return False
        found = False
        for d in self.digests:  # every key is compared, whichever matches
            found |= hmac.compare_digest(self._seal(d, issued).encode(),
                                         seal.encode("utf-8", "replace"))
        return found

    def _seal(self, digest: bytes, issued: str) -> str:
        return hmac.new(self.secret, b"page:" + digest + b":" + issued.encode(),
                        hashlib.sha256).hexdigest()

    def _matches(self, digest: bytes) -> bool:
        found = False
        for d in self.digests:
            found |= hmac.compare_digest(d, digest)
        return found


@dataclass(frozen=True)
class Hosts:
    """The names this service answers to (the `Host` header, port aside): a page of a site whose
    name resolves here by DNS rebinding sends its own name, so it is refused. `*.corp.example`
    matches subdomains; `*` alone matches any name."""

    names: tuple[str, ...] = LOOPBACK_NAMES

    def allows(self, host_header: str) -> bool:
        host = _host_name(host_header)
        for name in self.names:
            name = name.lower().strip("[]")
            if name == "*" or host == name or (name.startswith("*.") and
                                                host.endswith(name[1:])):
                return True
        return False


def _host_name(header: str) -> str:
    """The name of a Host header: `[::1]:7860` -> `::1`, `Example.COM:80` -> `example.com`."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].partition("]")[0]
    return header.rpartition(":")[0] if header.count(":") == 1 else header


@dataclass(frozen=True)
class Origins:
    """The web origins allowed to use the app from another site: those of the CSP frame-ancestors
    sources (`https://wiki.example.com`, `http://localhost:*`, `https://*.corp.example`); `'self'`
    and bare schemes (`https:`) allow no other site."""

    sources: tuple[str, ...]

    def allows(self, origin: str) -> bool:
        return any(_origin_pattern(s).fullmatch(origin) for s in self.sources if "://" in s)

    def regex(self) -> str | None:
        """One regular expression for Starlette's CORSMiddleware, or None when none is allowed."""
        parts = [_origin_pattern(s).pattern for s in self.sources if "://" in s]
        return "|".join(f"(?:{p})" for p in parts) or None


def _origin_pattern(source: str) -> re.Pattern[str]:
    scheme, _, rest = source.rstrip("/").partition("://")
    host, colon, port = rest.partition(":")
    host_re = re.escape(host).replace(r"\*", "[^./:]+")
    port_re = "" if not colon else r"(?::\d+)?" if port == "*" else f":{re.escape(port)}"
    return re.compile(f"{re.escape(scheme)}://{host_re}{port_re}", re.IGNORECASE)


@dataclass
class RateLimiter:
    """Token buckets: `burst` requests at once, refilled at `per_minute`; 0 turns it off."""

    per_minute: int
    burst: int
    clock: Callable[[], float] = time.monotonic
    max_clients: int = 10_000
    _buckets: OrderedDict[str, tuple[float, float]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, who: str) -> float:
        """0 if `who` may go ahead (one token spent), else the seconds until a token is due."""
        if self.per_minute <= 0:
            return 0.0
        rate, now = self.per_minute / 60.0, self.clock()
        with self._lock:
            tokens, then = self._buckets.pop(who, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * rate)
            allowed = tokens >= 1.0
            self._buckets[who] = (tokens - 1.0 if allowed else tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)  # the longest idle client
        return 0.0 if allowed else (1.0 - tokens) / rate

    def charge(self, who: str, tokens: float) -> None:
        """Take `tokens` more from `who`'s bucket (a request that cost more than one): it may go
        below zero, down to minus a burst, and the client then waits for it to refill."""
        if self.per_minute <= 0 or tokens <= 0:
            return
        with self._lock:
            have, then = self._buckets.pop(who, (float(self.burst), self.clock()))
            self._buckets[who] = (max(have - tokens, -float(self.burst)), then)


@dataclass
class InFlight:
    """Answers being computed per client, at most `most` at once (0: no limit)."""

    most: int
    _counts: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def enter(self, who: str) -> bool:
        with self._lock:
            if self.most and self._counts.get(who, 0) >= self.most:
                return False
            self._counts[who] = self._counts.get(who, 0) + 1
            return True

    def leave(self, who: str) -> None:
        with self._lock:
            left = self._counts.pop(who, 1) - 1
            if left > 0:
                self._counts[who] = left


@dataclass(frozen=True)
class Policy:
    """Who may do what: `keys` read and write, `read_keys` only read; with neither, all is open."""

    keys: Keys = Keys()
    pages_need_key: bool = False
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(0, 1))
    max_upload: int = 20 * 2**20
    read_keys: Keys = Keys()
    max_body: int = 512 * 2**10
    upload_paths: tuple[str, ...] = (UPLOAD_PATH,)
    origins: Origins = field(default_factory=lambda: Origins(()))
    public_paths: tuple[str, ...] = ()
    hosts: Hosts = Hosts(("*",))
    in_flight: InFlight = field(default_factory=lambda: InFlight(0))

    @classmethod
    def from_settings(cls, settings: Settings, upload_paths: tuple[str, ...] = (),
                      public_paths: tuple[str, ...] = ()) -> Policy:
        """The policy of the settings; a UI adds its own upload paths (with the API's size
        limit) and the paths anyone may fetch whatever QA_PAGES says."""
        secret = settings.cookie_secret.encode() or secrets.token_bytes(32)
        seconds = max(1, round(settings.page_cookie_hours * 3600))
        return cls(Keys.of(settings.api_keys, secret, seconds), settings.pages == "key",
                   RateLimiter(settings.rate_per_minute, settings.rate_burst),
                   settings.max_upload_mb * 2**20, Keys.of(settings.read_keys, secret, seconds),
                   settings.max_body_kb * 2**10, (UPLOAD_PATH, *upload_paths),
                   Origins(settings.frame_ancestors), public_paths,
                   Hosts(settings.allowed_hosts), InFlight(settings.max_in_flight))

    @property
    def keyed(self) -> bool:
        return bool(self.keys) or bool(self.read_keys)

    def rights(self, key: str) -> str:
        """"write", "read" or "" for a Bearer or `?key=` key."""
        if not key:
            return ""
        return "write" if self.keys.accepts(key) else "read" if self.read_keys.accepts(key) else ""

    def cookie_rights(self, cookie: str) -> str:
        """What the page cookie stands for: "write", "read" or ""."""
        if not cookie:
            return ""
        if self.keys.accepts_cookie(cookie):
            return "write"
        return "read" if self.read_keys.accepts_cookie(cookie) else ""

    def may_write(self, key: str, cookie: str) -> bool:
        """Adding or removing articles: anyone when no key is set, else a read-write key (the
        Bearer key, or the page cookie made from one)."""
        if not self.keyed:
            return True
        return self.rights(key) == "write" or self.cookie_rights(cookie) == "write"

    def is_upload(self, path: str) -> bool:
        return any(path == p or path.endswith(p) for p in self.upload_paths)


def bearer(conn: HTTPConnection) -> str:
    return bearer_key(conn.headers.get("authorization", ""))


def bearer_key(authorization: str) -> str:
    """The key of an `Authorization: Bearer KEY` header value; "" for any other."""
    scheme, _, key = authorization.partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def kind_of(path: str, public: tuple[str, ...] = ()) -> str:
    """"api", "public" (a path the UI lists as open to all, e.g. its script) or "page" (every
    other path: the pages, their framework's calls, the docs)."""
    if path == "/api" or path.startswith("/api/"):
        return "api"
    return "public" if path in public else "page"


def limited(conn: HTTPConnection, method: str, failed_key: bool = False) -> bool:
    """Requests that cost work or guess a secret: the API, every POST to the pages (questions,
    uploads, the login form), every `?key=` and every Bearer key that is not valid, anywhere."""
    return (kind_of(conn.url.path) == "api" or method in BODY_METHODS or
            "key" in conn.query_params or failed_key)


COST_SECONDS = 1.0  # an answer costs one request more for each further second it took


def costly(path: str, method: str) -> bool:
    """Requests whose cost grows with what they ask: the API's answers."""
    return method == "POST" and path in ("/api/ask", "/api/ask/stream")


class AccessControl:
    """Keys, write rights, rate limits, cross-site writes and body sizes in front of the app."""

    def __init__(self, app: ASGIApp, policy: Policy) -> None:
        self.app, self.policy = app, policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        refusal = self.refusal(conn, scope)
        if refusal is not None:
            await refusal(scope, receive, send)
        elif costly(scope["path"], scope["method"]):
            await self.counted(conn, scope, receive, send)
        else:
            await self.admitted(scope, receive, send)

    async def admitted(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The request, its body bounded by the upload or the body limit."""
        if scope["method"] in BODY_METHODS:
            limit = self.policy.max_upload if self.policy.is_upload(scope["path"]) else \
                self.policy.max_body
            await BodyLimit(self.app, limit)(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def counted(self, conn: HTTPConnection, scope: Scope, receive: Receive,
                      send: Send) -> None:
        """An answer: at most `in_flight.most` at once per client, and each second it took
        beyond the first costs the client one request more."""
        key = bearer(conn)
        who = identity(conn, key, bool(self.policy.rights(key)))
        if not self.policy.in_flight.enter(who):
            await json_error(429, "rate_limited", "Too many questions at once from this client: "
                             "wait for an answer first", {"Retry-After": "1"})(scope, receive,
                                                                               send)
            return
        started = time.monotonic()
        try:
            await self.admitted(scope, receive, send)
        finally:
            self.policy.in_flight.leave(who)
            extra = math.floor((time.monotonic() - started) / COST_SECONDS)
            self.policy.limiter.charge(who, extra)

    def refusal(self, conn: HTTPConnection, scope: Scope) -> Response | None:
        """The response that stops this request here, or None to let it through."""
        path, method, key = scope["path"], scope["method"], bearer(conn)
        if method not in KNOWN_METHODS:
            return json_error(405, "method_not_allowed", f"{method} is not allowed here",
                              {"Allow": ", ".join(sorted(KNOWN_METHODS))})
        if not self.policy.hosts.allows(conn.headers.get("host", "")):
            return json_error(400, "bad_host", "This service does not answer to that host name "
                              "(add it to QA_ALLOWED_HOSTS)")
        kind = kind_of(path, self.policy.public_paths)
        rights = self.policy.rights(key)  # checked once per request
        if limited(conn, method, failed_key=bool(key) and not rights):
            wait = self.policy.limiter.take(identity(conn, key, bool(rights)))
            if wait > 0:
                return too_many(wait)
        if method in BODY_METHODS and not same_site(conn, self.policy.origins):
            return json_error(403, "forbidden", "Requests from another site may not change "
                              "or ask anything here (its origin is not allowed)")
        if kind == "api":
            return self.api_refusal(path, method, key, rights)
        if kind == "page":
            return self.page_refusal(conn, rights)
        return None

    def cookie_for(self, key: str) -> str:
        keys = self.policy.keys if self.policy.keys.accepts(key) else self.policy.read_keys
        return keys.cookie_for(key)

    def api_refusal(self, path: str, method: str, key: str, rights: str) -> Response | None:
        if self.policy.keyed and not rights:
            return json_error(401, "unauthorized", missing_key_message(key), _challenge())
        if writes(path, method) and not self.policy.may_write(key, ""):
            return json_error(403, "forbidden", "This key may only read: adding or removing "
                              "articles needs a key from QA_API_KEYS")
        return None

    def page_refusal(self, conn: HTTPConnection, rights: str) -> Response | None:
        """`?key=` (any mode) becomes the page cookie; with QA_PAGES=key the pages need one."""
        given = conn.query_params.get("key", "")
        if given and self.policy.rights(given):
            return remember_key(conn, self.cookie_for(given), self.policy.keys.cookie_seconds)
        if not self.policy.pages_need_key or rights or \
                self.policy.cookie_rights(conn.cookies.get(COOKIE, "")):
            return None
        message = ("This chat needs an access key: open it once as ?key=YOUR_KEY "
                   "(it is then remembered by this browser)")
        return json_error(401, "unauthorized", message)


BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KNOWN_METHODS = BODY_METHODS | {"GET", "HEAD", "OPTIONS"}  # TRACE, CONNECT, ...: 405


def writes(path: str, method: str) -> bool:
    """API calls that change the stored articles."""
    return path.startswith(UPLOAD_PATH) and method in BODY_METHODS


def same_site(conn: HTTPConnection, allowed: Origins) -> bool:
    """False for a request a page of another, not allowed, origin made (cross-site request
    forgery); requests without an Origin header (curl, the Python client) pass."""
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    host = conn.headers.get("host", "")
    return origin.split("://", 1)[-1].lower() == host.lower() or allowed.allows(origin)


def identity(conn: HTTPConnection, key: str, valid: bool) -> str:
    """Whom a rate limit counts: a valid key, else the client's address."""
    if valid:
        return "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]
    return "addr:" + (conn.client.host if conn.client else "unknown")


def missing_key_message(given: str) -> str:
    if given:
        return "The API key is not valid"
    return "This API needs a key: send it as `Authorization: Bearer KEY`"


def _challenge() -> dict[str, str]:
    return {"WWW-Authenticate": 'Bearer realm="qa"'}


def too_many(wait: float) -> Response:
    seconds = max(1, math.ceil(wait))
    return json_error(429, "rate_limited", f"Too many requests: try again in {seconds} s",
                      {"Retry-After": str(seconds)})


def remember_key(conn: HTTPConnection, cookie: str, max_age: int) -> Response:
    """Redirect to the same address without `key`, setting the cookie that stands for it."""
    query = urlencode([(k, v) for k, v in parse_qsl(conn.url.query) if k != "key"])
    path = "/" + conn.url.path.lstrip("/\\")  # "//evil.example" would leave the site
    response = RedirectResponse(path + (f"?{query}" if query else ""), 303)
    secure = conn.url.scheme == "https"  # cross-site iframes (a wiki) need SameSite=None; Secure
    response.set_cookie(COOKIE, cookie, httponly=True, secure=secure,
                        samesite="none" if secure else "lax", max_age=max_age)
    return response


class BodyLimit:
    """Refuse a request body over `limit` bytes with 413: at once when Content-Length says so,
    else as soon as the bytes received pass it (the app then sees a disconnect)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = HTTPConnection(scope).headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await self.refuse()(scope, receive, send)
            return
        state = {"received": 0, "over": False, "started": False}

        async def counted() -> Message:
            message = await receive()
            state["received"] += len(message.get("body", b""))
            if state["received"] > self.limit:
                state["over"] = True
                return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            if not state["over"]:
                state["started"] = True
                await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not state["over"]:
                raise
        if state["over"] and not state["started"]:
            await self.refuse()(scope, receive, send)

    def refuse(self) -> Response:
        return json_error(413, "too_large", f"The upload is larger than {self.limit // 2**20} MB")
