"""Gradio's own routes, closed where the chat does not need them (ASGI middleware), and the
login check of Gradio's form (QA_PAGES=login).

Gradio serves more than the chat uses, under `/` and `/embed/` alike. This guard, run after
`qa.serving.access` (keys, rate limits, body sizes), refuses in the API's error shape:
- `/gradio_api/file=...` for anything but a file inside Gradio's upload folder (no server file,
  no URL fetched on the caller's behalf), and `/gradio_api/proxy=`;
- `POST /gradio_api/upload` without write rights (a read-write key, when keys are set);
- the routes of features the app does not use: monitoring, run history, media streams, the
  component server, recordings, the vibe editor, MCP, dev reload, deep links (a state file
  written per call), and `/gradio_api/token` (it would hand the HttpOnly login token to script);
- `/logout` from another site (a link or image on any page would sign the user out).

It also ends login sessions (QA_PAGES=login) after `session_seconds` on the server: Gradio keeps
its tokens forever, so the guard notes when each was issued by `/login` and drops an expired or
unknown one from the request's cookies, which Gradio then reads as signed out.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import unquote

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa.serving.access import COOKIE, Policy, bearer, json_error

API = "/gradio_api/"
UNUSED = ("proxy=", "file/", "component_server", "process_recording", "vibe-edit",
          "undo-vibe-edit", "vibe-code", "runs", "run-history", "stream/", "mcp", "dev/",
          "deep_link", "token")
SESSION_COOKIE = "access-token"  # Gradio's login cookies: access-token[-unsecure]-<app id>
UNUSED_PAGES = ("/monitoring", "/dev/reload", "/vibe-edit", "/undo-vibe-edit", "/vibe-code")


class Sessions:
    """Gradio's login tokens, each with the time `/login` issued it; valid for `seconds`."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.clock = seconds, clock
        self._issued: dict[str, float] = {}
        self._lock = threading.Lock()

    def issued(self, token: str) -> None:
        now = self.clock()
        with self._lock:
            self._issued = {t: at for t, at in self._issued.items() if now - at <= self.seconds}
            self._issued[token] = now

    def valid(self, token: str) -> bool:
        with self._lock:
            at = self._issued.get(token)
        return at is not None and self.clock() - at <= self.seconds

    def without_expired(self, scope: Scope) -> Scope:
        """The request with every expired or unknown login cookie taken out of it."""
        headers = MutableHeaders(scope=dict(scope, headers=list(scope["headers"])))
        raw = headers.get("cookie", "")
        if SESSION_COOKIE not in raw:
            return scope
        kept = [part for part in raw.split(";") if not _stale(part, self)]
        headers["cookie"] = ";".join(kept)
        return dict(scope, headers=headers.raw)

    async def noting(self, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
        """Run a `/login` request, noting the token of each login cookie it sets."""
        async def noted(message: Message) -> None:
            if message["type"] == "http.response.start":
                for name, value in message.get("headers", []):
                    if name.lower() == b"set-cookie" and value.startswith(b"access-token"):
                        for morsel in SimpleCookie(value.decode("latin-1")).values():
                            self.issued(morsel.value)
            await send(message)

        await app(scope, receive, noted)


def _stale(part: str, sessions: Sessions) -> bool:
    name, _, value = part.strip().partition("=")
    return name.startswith(SESSION_COOKIE) and not sessions.valid(value.strip().strip('"'))


class GradioGuard:
    def __init__(self, app: ASGIApp, policy: Policy, upload_dir: Path,
                 api_names: dict[str, frozenset[str]], session_seconds: float = 12 * 3600
                 ) -> None:
        self.app, self.policy, self.upload_dir = app, policy, upload_dir.resolve()
        self.api_names = api_names  # per page prefix ("" or "/embed"): its named events
        self.sessions = Sessions(session_seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = self.refusal(scope) if scope["type"] == "http" else None
        if refusal is not None:
            await json_error(*refusal)(scope, receive, send)
        elif scope["type"] != "http":
            await self.app(scope, receive, send)
        elif local_path(scope["path"]) in ("/login", "/login/") and scope["method"] == "POST":
            await self.sessions.noting(scope, receive, send, self.app)
        else:
            await self.app(self.sessions.without_expired(scope), receive, send)

    def refusal(self, scope: Scope) -> tuple[int, str, str] | None:
        if local_path(scope["path"]).rstrip("/") == "/logout" and cross_site(scope):
            return 403, "forbidden", "Signing out is only possible from this site's own pages"
        route = gradio_route(scope["path"])
        if route is None:
            return None
        if route.startswith(("file=", "file%3D")):
            return None if self.servable(route[5:]) else (403, "forbidden", "File not allowed")
        if route.startswith(UNUSED) or (route.startswith("/") and route.startswith(UNUSED_PAGES)):
            return 404, "not_found", "Not found"
        if self.unknown_event(scope["path"], route):
            return 404, "not_found", "No such event"
        if route == "upload" and scope["method"] == "POST" and not self.may_write(scope):
            return 403, "forbidden", ("Adding articles needs a read-write key: open the page "
                                      "once as ?key=YOUR_KEY")
        return None

    def unknown_event(self, path: str, route: str) -> bool:
        """A call by name (`call/NAME`, `run/NAME`, `api/NAME`) to an event this page lacks
        (Gradio would answer it with a 500)."""
        kind, _, rest = route.partition("/")
        if kind not in ("call", "run", "api") or not rest:
            return False
        name = rest.removeprefix("v2/").split("/", 1)[0]
        page = "/embed" if path.startswith("/embed/") else ""
        return name not in self.api_names.get(page, frozenset())

    def servable(self, target: str) -> bool:
        """Only files Gradio itself received, inside its upload folder; never a URL."""
        target = unquote(target)
        if "://" in target or not target.startswith("/"):
            return False
        try:
            return Path(target).resolve().is_relative_to(self.upload_dir)
        except (OSError, ValueError):
            return False

    def may_write(self, scope: Scope) -> bool:
        conn = HTTPConnection(scope)
        return self.policy.may_write(bearer(conn), conn.cookies.get(COOKIE, ""))


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


def _digest(text: str, purpose: str) -> bytes:
    return hashlib.sha256(f"{purpose}:{text}".encode()).digest()


def local_path(path: str) -> str:
    """The path inside its page: `/embed/login` -> `/login`."""
    return path.removeprefix("/embed") if path.startswith("/embed/") else path


def cross_site(scope: Scope) -> bool:
    """A request a browser made for a page of another site (`Sec-Fetch-Site`), or whose Origin
    is not this host."""
    conn = HTTPConnection(scope)
    if conn.headers.get("sec-fetch-site", "none") not in ("same-origin", "none"):
        return True
    origin = conn.headers.get("origin")
    return origin is not None and origin.split("://", 1)[-1].lower() != \
        conn.headers.get("host", "").lower()


def gradio_route(path: str) -> str | None:
    """The part after `/gradio_api/` (under `/` or `/embed/`); the page path itself (starting
    with "/") for the pages' own extra routes; None for every other path."""
    local = local_path(path)
    if local.startswith(API):
        return local[len(API):]
    if local.startswith(UNUSED_PAGES):
        return local
    return None
