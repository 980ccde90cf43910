"""Gradio's own routes, closed where the chat does not need them (ASGI middleware), and the
login check of Gradio's form (QA_PAGES=login).

Gradio serves more than the chat uses, under `/` and `/embed/` alike. This guard, run after
`qa.serving.access` (keys, rate limits, body sizes), refuses in the API's error shape:
- `/gradio_api/file=...` for anything but a file inside Gradio's upload folder (no server file,
  no URL fetched on the caller's behalf), and `/gradio_api/proxy=`;
- `POST /gradio_api/upload` without write rights (a read-write key, when keys are set);
- the routes of features the app does not use: monitoring, run history, media streams, the
  component server, recordings, the vibe editor, MCP, dev reload.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from qa.serving.access import COOKIE, Policy, bearer, json_error

API = "/gradio_api/"
UNUSED = ("proxy=", "file/", "component_server", "process_recording", "vibe-edit",
          "undo-vibe-edit", "vibe-code", "runs", "run-history", "stream/", "mcp", "dev/")
UNUSED_PAGES = ("/monitoring", "/dev/reload", "/vibe-edit", "/undo-vibe-edit", "/vibe-code")


class GradioGuard:
    def __init__(self, app: ASGIApp, policy: Policy, upload_dir: Path,
                 api_names: dict[str, frozenset[str]]) -> None:
        self.app, self.policy, self.upload_dir = app, policy, upload_dir.resolve()
        self.api_names = api_names  # per page prefix ("" or "/embed"): its named events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = self.refusal(scope) if scope["type"] == "http" else None
        if refusal is None:
            await self.app(scope, receive, send)
        else:
            await json_error(*refusal)(scope, receive, send)

    def refusal(self, scope: Scope) -> tuple[int, str, str] | None:
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


def gradio_route(path: str) -> str | None:
    """The part after `/gradio_api/` (under `/` or `/embed/`); the page path itself (starting
    with "/") for the pages' own extra routes; None for every other path."""
    local = path.removeprefix("/embed") if path.startswith("/embed/") else path
    if local.startswith(API):
        return local[len(API):]
    if local.startswith(UNUSED_PAGES):
        return local
    return None
