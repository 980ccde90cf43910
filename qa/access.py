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
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "qa_page_key"
UPLOAD_PATH = "/api/documents"


def json_error(status: int, code: str, message: str, headers: dict[str, str] | None = None
               ) -> JSONResponse:
    """The one error shape of the API: `{"error": {"code": ..., "message": ...}}`."""
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers=headers)


def _digest(text: str, purpose: str) -> bytes:
    return hashlib.sha256(f"{purpose}:{text}".encode()).digest()


@dataclass(frozen=True)
class Keys:
    """The accepted API keys, held as digests and compared in constant time."""

    digests: tuple[bytes, ...] = ()

    @classmethod
    def of(cls, keys: tuple[str, ...]) -> Keys:
        return cls(tuple(_digest(k, "key") for k in keys))

    def __bool__(self) -> bool:
        return bool(self.digests)

    def accepts(self, key: str) -> bool:
        return self._matches(_digest(key, "key"))

    def cookie_for(self, key: str) -> str:
        return hashlib.sha256(b"page:" + _digest(key, "key")).hexdigest()

    def accepts_cookie(self, value: str) -> bool:
        """True if the cookie was made by `cookie_for` from an accepted key."""
        found = False
        for d in self.digests:  # every key is compared, whichever matches
            expected = hashlib.sha256(b"page:" + d).hexdigest()
            found |= hmac.compare_digest(expected.encode(), value.encode("utf-8", "replace"))
        return found

    def _matches(self, digest: bytes) -> bool:
        found = False
        for d in self.digests:
            found |= hmac.compare_digest(d, digest)
        return found


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


@dataclass(frozen=True)
class Policy:
    keys: Keys = Keys()
    pages_need_key: bool = False
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(0, 1))
    max_upload: int = 20 * 2**20

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> Policy:
        return cls(Keys.of(settings["QA_API_KEYS"]), settings["QA_PAGES"] == "key",
                   RateLimiter(settings["QA_RATE_PER_MINUTE"], settings["QA_RATE_BURST"]),
                   settings["QA_MAX_UPLOAD_MB"] * 2**20)


def login_checker(users: tuple[tuple[str, str], ...]) -> Callable[[str, str], bool]:
    """Gradio's `auth` callable for QA_PAGES=login: every pair compared in constant time."""
    known = [(_digest(name, "user"), _digest(password, "password")) for name, password in users]

    def check(name: str, password: str) -> bool:
        given = (_digest(name, "user"), _digest(password, "password"))
        found = False
        for user, secret in known:
            found |= hmac.compare_digest(user, given[0]) & hmac.compare_digest(secret, given[1])
        return found

    return check


def bearer(conn: HTTPConnection) -> str:
    scheme, _, key = conn.headers.get("authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def kind_of(path: str) -> str:
    """"api", "script" (the public embed.js) or "page" (chat, embed, their Gradio calls, docs)."""
    if path == "/api" or path.startswith("/api/"):
        return "api"
    return "script" if path == "/embed.js" else "page"


def limited(path: str, method: str) -> bool:
    """Calls that cost work: the API, and the chat pages' own POSTs (questions, uploads)."""
    return kind_of(path) == "api" or (method == "POST" and "/gradio_api/" in path)


class AccessControl:
    """Keys, rate limits and the upload size limit in front of the whole app."""

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
        elif scope["path"] == UPLOAD_PATH and scope["method"] == "POST":
            await BodyLimit(self.app, self.policy.max_upload)(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def refusal(self, conn: HTTPConnection, scope: Scope) -> Response | None:
        """The response that stops this request here, or None to let it through."""
        path, kind, key = scope["path"], kind_of(scope["path"]), bearer(conn)
        valid = bool(key) and self.policy.keys.accepts(key)  # checked once per request
        if limited(path, scope["method"]):
            wait = self.policy.limiter.take(identity(conn, key, valid))
            if wait > 0:
                return too_many(wait, kind)
        if kind == "api" and self.policy.keys and not valid:
            return json_error(401, "unauthorized", missing_key_message(key), _challenge())
        if kind == "page" and self.policy.pages_need_key:
            return self.page_refusal(conn, valid)
        return None

    def page_refusal(self, conn: HTTPConnection, valid_bearer: bool) -> Response | None:
        keys, given = self.policy.keys, conn.query_params.get("key", "")
        if given and keys.accepts(given):
            return remember_key(conn, keys.cookie_for(given))
        if valid_bearer or keys.accepts_cookie(conn.cookies.get(COOKIE, "")):
            return None
        message = ("This chat needs an access key: open it once as ?key=YOUR_KEY "
                   "(it is then remembered by this browser)")
        if "/gradio_api/" in conn.url.path:
            return json_error(401, "unauthorized", message)
        return PlainTextResponse(message, 401)


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


def too_many(wait: float, kind: str) -> Response:
    seconds = max(1, math.ceil(wait))
    message = f"Too many requests: try again in {seconds} s"
    headers = {"Retry-After": str(seconds)}
    if kind == "page":
        return PlainTextResponse(message, 429, headers=headers)
    return json_error(429, "rate_limited", message, headers)


def remember_key(conn: HTTPConnection, cookie: str) -> Response:
    """Redirect to the same address without `key`, setting the cookie that stands for it."""
    query = urlencode([(k, v) for k, v in parse_qsl(conn.url.query) if k != "key"])
    response = RedirectResponse(conn.url.path + (f"?{query}" if query else ""), 303)
    secure = conn.url.scheme == "https"  # cross-site iframes (a wiki) need SameSite=None; Secure
    response.set_cookie(COOKIE, cookie, httponly=True, secure=secure,
                        samesite="none" if secure else "lax", max_age=30 * 24 * 3600)
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
