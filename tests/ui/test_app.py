"""The chat pages' wiring: streaming into the chat, errors as gr.Error, uploads, the ?source= scope,
and the one app serving the pages, the script and the API together."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import pytest
from starlette.datastructures import QueryParams

from qa.retrieve import Filters
from qa.service import Service
from qa.serving.access import Policy
from tests.conftest import write
from ui.app import Conversation, Uploads, index_files, on_load, stream_answer

KILLED = "Who was killed at the fake roadblock?"


def test_the_answer_streams_into_the_chat_then_the_sources_fill_in(
        app_service: Service) -> None:
    updates = list(stream_answer(app_service, KILLED, Conversation(), Filters()))
    assert len(updates) == 2  # the extractive answer arrives whole (no fake word-by-word replay)
    texts = [u[0][-1]["content"] for u in updates]
    # the final update is the rendered answer: the same text, its short answer in bold
    assert texts[0].rstrip(" [1]") in texts[1].replace("**", "") and "Zapata" in texts[0]
    assert "**Zapata**" in texts[1]
    history, sources, searched, box, conversation = updates[-1]
    assert history[0] == {"role": "user", "content": KILLED} and "[1]" in history[1]["content"]
    assert "<mark>" in sources and searched == "" and box == ""
    assert conversation.questions == (KILLED,)
    follow = list(stream_answer(app_service, "and who was wounded?", conversation, Filters()))[-1]
    assert len(follow[0]) == 4 and follow[2].startswith("searched for:")


@pytest.mark.parametrize("question, filters, message", [
    ("   ", Filters(), "question is empty"),
    ("x" * 2001, Filters(), "limit is 2000"),
    (KILLED, Filters(date_from="last year"), "date_from must look like"),
])
def test_bad_input_becomes_a_gr_error(app_service: Service, question: str, filters: Filters,
                                      message: str) -> None:
    with pytest.raises(gr.Error, match=message):
        next(stream_answer(app_service, question, Conversation(), filters))


class Progress:
    def __init__(self) -> None:
        self.calls: list[Any] = []

    def __call__(self, value: Any, desc: str = "") -> None:
        self.calls.append((value, desc))


def test_uploads_are_indexed_with_progress_and_answerable_right_after(
        app_service: Service, tmp_path: Path) -> None:
    good = write(tmp_path / "comet.txt", "Comet Notes\n\nThe comet Vexla returns every "
                 "seventy-one years, last seen over Lisbon.\n")
    bad = write(tmp_path / "empty.md", "")
    progress = Progress()
    status, picked, cleared, notice = index_files(app_service, [good, bad], progress)
    assert "1 new" in status and "empty\\.md: empty file" in status and cleared is None
    assert [desc for _, desc in progress.calls] == ["Indexing comet.txt", "Indexing empty.md"]
    assert any(label == "Comet Notes" for label, _ in picked["choices"])
    answer = app_service.ask("How often does the comet Vexla return?")
    assert answer.citations[0].source == "upload:comet.txt"
    app_service.remove(answer.citations[0].doc_id)
    assert not good.exists() and not bad.exists()  # read once, then gone from Gradio's folder
    uploads = Uploads(Policy(), tmp_path)
    with pytest.raises(gr.Error, match="Choose one or more files"):
        uploads.check(None, [])


class FakeRequest:
    def __init__(self, query: str) -> None:
        self.query_params = QueryParams(query)


def test_the_source_parameter_scopes_the_page(app_service: Service) -> None:
    wikileaks = next(a for a in app_service.documents() if a.title.startswith("WikiLeaks"))
    scope, _, notice = on_load(app_service, FakeRequest(f"source={wikileaks.doc_id},other"))
    assert scope == (wikileaks.doc_id, "other") and notice == f"Answering from: {wikileaks.title}"
    assert on_load(app_service, FakeRequest(""))[0] == ()


def test_titles_in_the_scope_notice_are_text_not_markdown(tmp_path: Path) -> None:
    """An article title like `![x](https://tracker)` would load an image for every reader of
    `/embed?source=ID`: it is shown as its characters instead."""
    from index.store import StoredArticle

    title = "![x](http://tracker.example/p.png) **bold** <b>tag</b>"
    article = StoredArticle("doc", title, "upload:a.txt", "", "", 1, "")
    service: Any = type("S", (), {"documents": lambda self: [article]})()
    notice = on_load(service, FakeRequest("source=doc"))[2]
    assert notice == f"Answering from: {html.escape(title)}"
    assert "<b>" not in notice and "<img" not in notice


def test_one_app_serves_the_pages_the_script_and_the_api(app_url: str) -> None:
    with httpx.Client(base_url=app_url, timeout=30) as http:
        for path in ("/", "/embed/"):
            page = http.get(path)
            assert page.status_code == 200 and "<html" in page.text.lower()
            assert page.headers["content-security-policy"].startswith("frame-ancestors 'self'")
        redirect = http.get("/embed?source=abc")
        assert redirect.status_code == 307 and redirect.headers["location"] == "/embed/?source=abc"
        script = http.get("/embed.js")
        assert script.headers["content-type"].startswith("text/javascript")
        assert "customElements.define(\"qa-chat\"" in script.text
        assert http.get("/api/health").json()["articles"] >= 2
        assert http.get("/docs").status_code == 200


class StoreDown:
    """A service whose Chroma server has gone away (see tests/test_chroma_server.py for the real
    outage through the API)."""

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        from index.store import StoreError

        raise StoreError("The Chroma server at http://127.0.0.1:9 is unreachable; is it running?")

    documents = add_uploads = stream


def test_a_store_outage_is_a_message_in_the_chat_not_a_crash(tmp_path: Path) -> None:
    down: Any = StoreDown()
    with pytest.raises(gr.Error, match="Chroma server at http://127.0.0.1:9 is unreachable"):
        list(stream_answer(down, KILLED, Conversation(), Filters()))
    upload = write(tmp_path / "a.txt", "An article.")
    with pytest.raises(gr.Error, match="unreachable.*indexed before it: 0 new"):
        index_files(down, [upload], lambda *a, **k: None)
    request: Any = type("R", (), {"query_params": QueryParams("")})()
    assert "can't be read right now" in on_load(down, request)[2]


class Broken:
    """A service with a bug: its error message holds an object's repr (a memory address)."""

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"unexpected {object()!r}")

    documents = add_uploads = stream


def test_an_unexpected_error_is_logged_and_shown_without_its_details(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Issue 21, finding 12: Gradio showed an error's text as it was, object addresses and all."""
    broken: Any = Broken()
    with pytest.raises(gr.Error) as raised:
        list(stream_answer(broken, KILLED, Conversation(), Filters()))
    assert raised.value.message == ("Something went wrong answering; the error was logged on the "
                                    "server")
    assert "0x" in caplog.text and "Traceback" in caplog.text  # the details stay in the log
