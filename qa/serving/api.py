"""The HTTP API over one `Service`: ask (JSON or Server-Sent Events), documents, health.

    app = create_api(service, settings)  # a FastAPI app; ui/ mounts the chat pages on it

Every error, whatever raised it, leaves as `{"error": {"code": ..., "message": ...}}` with its HTTP
status; bad input is a 4xx with a message for a human, never a 500 or a stack trace.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI, File, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from index.errors import AppError
from qa.retrieve import Filters
from qa.service import Service
from qa.serving.access import AccessControl, Origins, Policy, json_error
from qa.settings import Settings, check_access
from qa.types import Event

log = logging.getLogger("qa.serving.api")
T = TypeVar("T")
DOCS_ASSETS = "/docs-assets"
ALL_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type",
              429: "rate_limited"}


class FiltersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sources: list[str] = Field(default=[], description="source paths/urls or doc ids to keep "
                               "(at most 200: more is a 400)")
    date_from: str = Field(default="", description="YYYY[-MM[-DD]], inclusive")
    date_to: str = Field(default="", description="YYYY[-MM[-DD]], inclusive")


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # minLength in the spec only: a length constraint would make pydantic refuse a lone
    # surrogate with a 422 before the service's 400 says what is wrong
    question: str = Field(json_schema_extra={"minLength": 1}, description="the question; "
                          "follow-ups are read against `history` (at most QA_MAX_QUESTION_CHARS "
                          "characters)")
    history: list[str | dict[str, Any] | list[Any]] = Field(
        default=[], description="earlier turns: the user's questions as strings, or {role, "
        "content} chat messages, or [question, answer] pairs")
    filters: FiltersIn = FiltersIn()
    k: int | None = Field(default=None, ge=1, le=100, description="passages to retrieve (at "
                          "most QA_MAX_K, 20 by default; the reader reads the first 10)")

    def to_filters(self) -> Filters:
        f = self.filters
        return Filters(tuple(f.sources), f.date_from, f.date_to)


class ErrorDetail(BaseModel):
    code: str = Field(description="machine-readable, e.g. bad_question, unauthorized")
    message: str = Field(description="for a human: what went wrong and what to do")


class ErrorOut(BaseModel):
    """The one error shape of every status below."""

    error: ErrorDetail


ERROR_TEXT = {400: "Bad input: an empty, too long or invalid question, history, k or filter",
              401: "No key, or a key that is not valid", 403: "A read key where writing needs "
              "a read-write key, or a request from another site", 404: "No such article",
              413: "The body or upload is too large", 422: "The body does not fit the schema",
              429: "Too many requests, or too many at once: see Retry-After",
              503: "The answer ran past its time budget (too_slow)"}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, all in the one error shape."""
    return {s: {"model": ErrorOut, "description": ERROR_TEXT[s]} for s in statuses}


ASK_ERRORS = errors(400, 401, 403, 413, 422, 429, 503)
READ_ERRORS = errors(401, 429)
error = json_error


def create_api(service: Service, settings: Settings, policy: Policy | None = None,
               inner: Sequence[tuple[Any, dict[str, Any]]] = ()) -> FastAPI:
    """The FastAPI app with the `/api/*` routes, the error shape, access control (keys, write
    rights, rate limits, body sizes, cross-site requests), CORS and the framing policy. `inner`
    middleware (class, options) runs after access control, in the order given."""
    policy = policy or Policy.from_settings(check_access(settings))
    app = FastAPI(title="Ask the articles", version="0.5.0", docs_url=None, redoc_url=None,
                  description="Answers with cited passages from the indexed articles. With API "
                  "keys set, send `Authorization: Bearer KEY`.")
    add_docs(app)
    add_error_handlers(app)
    for middleware, options in reversed(inner):
        app.add_middleware(middleware, **options)
    app.add_middleware(AccessControl, policy=policy)
    add_cors(app, policy.origins)  # before access control: preflights carry no key
    add_security_headers(app, settings.frame_ancestors)  # outermost: on every response
    add_routes(app, service, settings.max_upload_files)
    add_fallback(app)
    return app


def add_docs(app: FastAPI) -> None:
    """`/docs` (Swagger UI) from assets served here (the fastapi-offline package), not from a
    CDN: the API docs work with no network."""
    import fastapi_offline

    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount(DOCS_ASSETS, StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title}: API",
                                   swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png")


def add_cors(app: FastAPI, origins: Origins) -> None:
    """Only the configured wiki origins may read responses cross-site, without cookies; being
    Starlette's own middleware, it also stops Gradio adding its permissive CORS headers."""
    app.add_middleware(CORSMiddleware, allow_origins=[], allow_origin_regex=origins.regex(),
                       allow_credentials=False, allow_methods=["GET", "POST"],
                       allow_headers=["authorization", "content-type"], max_age=600)


def add_fallback(app: FastAPI) -> None:
    """Unknown `/api/*` paths are a 404 and wrong methods a 405, in the error shape (the chat
    pages, mounted at `/`, would otherwise answer them)."""
    routes = [r for r in app.routes if isinstance(r, APIRoute) and r.path.startswith("/api/")]

    @app.api_route("/api/{rest:path}", methods=sorted(ALL_METHODS), include_in_schema=False)
    def fallback(request: Request) -> JSONResponse:
        allowed = sorted({m for r in routes if r.path_regex.match(request.url.path)
                          for m in r.methods or ()})
        if allowed:
            return error(405, "method_not_allowed", f"{request.method} is not allowed here; "
                         f"use {', '.join(allowed)}", {"Allow": ", ".join(allowed)})
        return error(404, "not_found", f"No API route {request.url.path}")


def add_routes(app: FastAPI, service: Service, max_files: int) -> None:
    @app.post("/api/ask", summary="Answer a question with cited passages", responses=ASK_ERRORS)
    def ask(body: AskIn) -> dict[str, Any]:
        return service.ask(body.question, body.k, body.to_filters(), body.history).to_dict()

    @app.post("/api/ask/stream", summary="The same answer as Server-Sent Events",
              response_class=StreamingResponse, responses=ASK_ERRORS)
    def ask_stream(body: AskIn) -> StreamingResponse:
        events = service.stream(body.question, body.k, body.to_filters(), body.history)
        return StreamingResponse(sse(events), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.get("/api/documents", summary="The stored articles", responses=READ_ERRORS)
    def documents() -> dict[str, Any]:
        return {"documents": [asdict(a) for a in service.documents()]}

    @app.post("/api/documents", summary="Upload articles (.txt .md .html .jsonl)",
              responses=errors(400, 401, 403, 413, 422, 429))
    async def upload(request: Request, files: list[UploadFile] = File(...)) -> dict[str, Any]:
        # the body's size was checked before parsing (qa.serving.access.BodyLimit)
        if len(files) > max_files:
            raise HTTPException(413, f"{len(files)} files in one upload; the limit is {max_files}")
        named = [(f.filename or "upload", await f.read()) for f in files]
        report = await until_disconnected(request, lambda stopped: service.add_uploads(
            named, stopped=stopped))
        return {"new": report.new, "updated": report.updated, "unchanged": report.unchanged,
                "chunks": report.chunks, "summary": report.summary(),
                "errors": [{"file": e.path.removeprefix("upload:"), "reason": e.reason}
                           for e in report.errors]}

    @app.delete("/api/documents/{doc_id:path}", summary="Remove an article and its chunks",
                responses=errors(401, 403, 404, 429))
    def remove(doc_id: str) -> dict[str, Any]:
        service.remove(doc_id)
        return {"removed": doc_id}

    @app.get("/api/health", summary="Store and model status", responses=READ_ERRORS)
    def health() -> dict[str, Any]:
        return service.health()


async def until_disconnected(request: Request, work: Callable[[Callable[[], bool]], T]) -> T:
    """Run `work(stopped)` in a worker thread; `stopped()` turns true once the client has gone,
    so that no CPU is spent on an answer nobody will read."""
    gone = threading.Event()
    task = asyncio.ensure_future(run_in_threadpool(work, gone.is_set))
    while not task.done():
        await asyncio.wait({task}, timeout=0.5)
        if not task.done() and await request.is_disconnected():
            gone.set()
    return task.result()


def sse(events: Iterator[Event]) -> Iterator[str]:
    """Events as `event: KIND` / `data: JSON` blocks; an error mid-stream becomes an error event."""
    try:
        for event in events:
            yield _sse_block(event)
    except Exception as exc:  # the response has started: report in-band, never a stack trace
        status, code, message = classify(exc)  # the API's one error shape, in-band
        error = {"error": {"code": code, "message": message}}
        yield f"event: error\ndata: {json.dumps(error, ensure_ascii=False)}\n\n"


def _sse_block(event: Event) -> str:
    data = event.data
    payload = ({"text": data} if event.kind == "token" else
               data.to_dict() if hasattr(data, "to_dict") else asdict(data))
    return f"event: {event.kind}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"


def classify(exc: Exception) -> tuple[int, str, str]:
    """(status, code, message) of any exception: an AppError says its own; anything else is a
    500 whose details go to the log only."""
    if isinstance(exc, AppError):
        return exc.status, exc.code, str(exc)
    log.exception("unexpected error", exc_info=exc)
    return 500, "internal", "Something went wrong on the server; the error was logged"


def add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = exc.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            return error(400, "bad_json", "The request body is not valid JSON")
        return error(422, "invalid_request", "; ".join(_describe(p) for p in problems[:5]))

    @app.exception_handler(HTTPException)
    async def http(request: Request, exc: HTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "error")
        return error(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(AppError)
    @app.exception_handler(Exception)
    async def known(request: Request, exc: Exception) -> JSONResponse:
        return error(*classify(exc))


def _describe(problem: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in problem.get("loc", ()) if p != "body") or "body"
    return f"{where}: {problem.get('msg', 'invalid')}"


def add_security_headers(app: FastAPI, frame_ancestors: tuple[str, ...]) -> None:
    """Only the listed origins may frame any page (the chat, /embed); no MIME sniffing."""
    policy = f"frame-ancestors {' '.join(frame_ancestors) or chr(39) + 'none' + chr(39)}"
    app.add_middleware(SecurityHeaders, policy=policy)


class SecurityHeaders:
    """Plain ASGI middleware (it leaves streamed bodies alone) that sets the headers."""

    def __init__(self, app: ASGIApp, policy: str) -> None:
        self.app, self.policy = app, policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = self.policy
                headers["X-Content-Type-Options"] = "nosniff"
            await send(message)

        await self.app(scope, receive, send_with_headers)
