"""A Python client for the HTTP API, on httpx, returning the same typed `Answer` as the service.

    from qa.client import Client
    with Client("http://127.0.0.1:7860") as c:
        a = c.ask("Who was killed at the fake roadblock?")
        print(a.answer, [(x.quote, x.title, x.source) for x in a.citations])
        for item in c.ask_stream("and who was wounded?", history=[a.question]):
            print(item if isinstance(item, str) else item.citations)

Errors come back as `ClientError` carrying the API's status, code and message. Only httpx and the
plain dataclasses of `qa.types` are imported: no model, no store.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from qa.types import Answer


class ClientError(Exception):
    """The API refused or failed a request; `message` is its explanation for a human, and
    `retry_after` the seconds to wait when it was rate limited (429)."""

    def __init__(self, status: int, code: str, message: str,
                 retry_after: float | None = None) -> None:
        super().__init__(f"{message} ({status} {code})")
        self.status, self.code, self.message = status, code, message
        self.retry_after = retry_after


class Client:
    """One connection pool to one server. `transport` and `headers` are passed on to httpx."""

    def __init__(self, base_url: str, timeout: float = 60.0, connect_timeout: float = 5.0,
                 api_key: str | None = None, transport: httpx.BaseTransport | None = None) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers,
                                 timeout=httpx.Timeout(timeout, connect=connect_timeout),
                                 transport=transport)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def ask(self, question: str, history: Sequence[Any] = (), sources: Sequence[str] = (),
            date_from: str = "", date_to: str = "", k: int | None = None) -> Answer:
        body = _ask_body(question, history, sources, date_from, date_to, k)
        return Answer.from_dict(self._json("POST", "/api/ask", json=body))

    def ask_stream(self, question: str, history: Sequence[Any] = (), sources: Sequence[str] = (),
                   date_from: str = "", date_to: str = "", k: int | None = None
                   ) -> Iterator[str | Answer]:
        """Yield the answer's text piece by piece as it arrives, then the whole `Answer`."""
        body = _ask_body(question, history, sources, date_from, date_to, k)
        with self._send_stream("POST", "/api/ask/stream", json=body) as response:
            for kind, data in _events(response.iter_lines()):
                if kind == "token":
                    yield str(data["text"])
                elif kind == "done":
                    yield Answer.from_dict(data)
                elif kind == "error":  # {"error": {code, message}} (older servers: unwrapped)
                    error = data.get("error", data)
                    raise ClientError(response.status_code, error["code"], error["message"])

    def documents(self) -> list[dict[str, Any]]:
        return list(self._json("GET", "/api/documents")["documents"])

    def add_documents(self, paths: Sequence[str | Path]) -> dict[str, Any]:
        """Upload article files (.txt .md .html .jsonl); returns the indexing report."""
        files = [("files", (Path(p).name, Path(p).read_bytes())) for p in paths]
        return self._json("POST", "/api/documents", files=files)

    def remove(self, doc_id: str) -> None:
        self._json("DELETE", f"/api/documents/{doc_id}")

    def health(self) -> dict[str, Any]:
        return self._json("GET", "/api/health")

    def _json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise ClientError(0, "unreachable", f"{self.http.base_url}: {exc}") from exc
        _raise_for_error(response)
        return dict(response.json())

    def _send_stream(self, method: str, url: str, **kwargs: Any) -> _Stream:
        return _Stream(self.http, self.http.build_request(method, url, **kwargs))


class _Stream:
    """A streamed response that raises `ClientError` (with the JSON message) on a 4xx/5xx."""

    def __init__(self, http: httpx.Client, request: httpx.Request) -> None:
        self.http, self.request = http, request

    def __enter__(self) -> httpx.Response:
        try:
            self.response = self.http.send(self.request, stream=True)
        except httpx.HTTPError as exc:
            raise ClientError(0, "unreachable", f"{self.request.url}: {exc}") from exc
        if self.response.is_error:
            self.response.read()
            self.response.close()
            _raise_for_error(self.response)
        return self.response

    def __exit__(self, *exc: object) -> None:
        self.response.close()


def _ask_body(question: str, history: Sequence[Any], sources: Sequence[str], date_from: str,
              date_to: str, k: int | None) -> dict[str, Any]:
    body: dict[str, Any] = {"question": question, "history": list(history),
                            "filters": {"sources": list(sources), "date_from": date_from,
                                        "date_to": date_to}}
    if k is not None:
        body["k"] = k
    return body


def _raise_for_error(response: httpx.Response) -> None:
    if not response.is_error:
        return
    try:
        err = response.json()["error"]
        code, message = str(err["code"]), str(err["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "http_error", response.text[:200] or response.reason_phrase
    wait = response.headers.get("retry-after", "")
    raise ClientError(response.status_code, code, message,
                      float(wait) if wait.isdigit() else None)


def _events(lines: Iterator[str]) -> Iterator[tuple[str, Any]]:
    """(event, parsed data) pairs from the lines of a Server-Sent Events stream."""
    kind, data = "message", list[str]()
    for line in lines:
        if not line:
            if data:
                yield kind, json.loads("\n".join(data))
            kind, data = "message", list[str]()
        elif line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    if data:
        yield kind, json.loads("\n".join(data))
