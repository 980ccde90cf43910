"""The chat pages: the full chat at `/` and the compact one for wiki iframes at `/embed`.

Only wiring: questions and the conversation go to `qa.service.Service.stream`, tokens are streamed
into the chat, the sources panel shows what the answer cites, uploads go to `Service.add_uploads`.
Errors the asker can fix become `gr.Error` messages; any other is logged here and shown as a
generic message (never a repr or a memory address). `?source=ID` (repeatable or comma-separated)
scopes a page to some articles.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import gradio as gr

from index.add import AddReport
from index.errors import AppError
from index.store import StoreError
from qa.retrieve import Filters
from qa.service import Service
from qa.serving.access import COOKIE, Policy, bearer_key
from qa.types import Answer, Event
from ui.render import (
    EMPTY,
    chat_text,
    inline_citations,
    md_safe,
    md_text,
    searched_for,
    sources_html,
)

TITLE = "Ask the articles"
DESCRIPTION = ("Answers are made of sentences from the indexed articles; every one is cited, and "
               "the sources panel shows the passage it comes from.")
EXAMPLES = ["Who was killed at the fake roadblock?", "What did U.S. officials complain about?"]
FILE_TYPES = [".txt", ".md", ".html", ".htm", ".jsonl"]
Outputs = tuple[Any, ...]
HUMAN_ERRORS = (AppError,)  # shown to the asker as they are
CHAT_EVENT, UPLOAD_EVENT = "chat", "upload"  # events callable by name (Gradio's /call/NAME)
EMBED_EVENTS = (CHAT_EVENT,)  # the embed has no upload event
PAGE_EVENTS = (CHAT_EVENT, UPLOAD_EVENT)
KEPT_TURNS = 20  # questions a conversation remembers (the service accepts up to 50)
log = logging.getLogger("ui.app")


@dataclass(frozen=True)
class Uploads:
    """Who may add articles from the page, and where Gradio keeps the files it received."""

    policy: Policy
    folder: Path

    def check(self, request: gr.Request | None, paths: list[str]) -> list[Path]:
        """The uploaded files, once the caller may write and each was received by Gradio."""
        if not paths:
            raise gr.Error("Choose one or more files first (.txt, .md, .html, .jsonl)")
        headers = request.headers if request is not None else {}
        cookies = getattr(request, "cookies", None) or {}
        key = bearer_key(headers.get("authorization", ""))
        if not self.policy.may_write(key, cookies.get(COOKIE, "")):
            raise gr.Error("Adding articles needs a read-write key: open this page once as "
                           "?key=YOUR_KEY")
        files = [Path(p).resolve() for p in paths]
        if not all(f.is_relative_to(self.folder.resolve()) and f.is_file() for f in files):
            raise gr.Error("Only files uploaded through this page can be indexed")
        return files


@dataclass(frozen=True)
class Conversation:
    """The chat as shown (messages) and the questions asked, kept on the server per session:
    the browser never sends the history back, so it can't be forged."""

    messages: tuple[dict[str, str], ...] = ()
    questions: tuple[str, ...] = ()

    def asked(self, question: str, answer: str) -> Conversation:
        messages = (*self.messages, {"role": "user", "content": md_safe(question)},
                    {"role": "assistant", "content": answer})
        return Conversation(messages[-2 * KEPT_TURNS:], (*self.questions, question)[-KEPT_TURNS:])


# The chat's height on the page and in the embed (True): 300 px lets the embed, scope notice
# and question box included, fit the README's 560 px frame (tests/ui/test_browser.py)
CHAT_HEIGHT = {False: 520, True: 300}


def build_chat(service: Service, uploads: Uploads, embed: bool = False) -> gr.Blocks:
    """The page's components and events; `embed` drops the title, filters and uploads."""
    with gr.Blocks(title=TITLE, fill_height=embed, delete_cache=(3600, 3600)) as page:
        scope, talk = gr.State(()), gr.State(Conversation())
        if not embed:
            gr.Markdown(f"# {TITLE}\n{DESCRIPTION}")
        notice = gr.HTML(elem_id="notice")  # HTML built from escaped text: titles stay text
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = gr.Chatbot(elem_id="chat", height=CHAT_HEIGHT[embed], label="Chat",
                                  show_label=False, buttons=["copy"])
                searched = gr.Markdown(elem_id="searched-for")
                with gr.Row():
                    question = gr.Textbox(elem_id="question", show_label=False, scale=5,
                                          placeholder="Ask about the articles…", autofocus=True,
                                          max_length=service.max_question_chars)
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                with gr.Accordion("Filters", open=False, visible=not embed):
                    picked = gr.Dropdown(label="Only these articles", multiselect=True, choices=[])
                    with gr.Row():
                        date_from = gr.Textbox(label="From date", placeholder="YYYY[-MM[-DD]]")
                        date_to = gr.Textbox(label="To date", placeholder="YYYY[-MM[-DD]]")
                if not embed:
                    gr.Examples(EXAMPLES, inputs=question)
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(EMPTY, elem_id="sources")
                if not embed:  # the embed has no upload event at all, not just a hidden button
                    add_upload_panel(page, service, uploads, picked, notice)

        wire_questions(service, embed, send, question,
                       [question, talk, picked, date_from, date_to, scope],
                       [chat, sources, searched, question, talk])

        def load(request: gr.Request) -> Outputs:
            with shown_errors("loading the page"):
                return on_load(service, request)

        page.load(load, None, [scope, picked, notice], api_visibility="private")
    return page


def wire_questions(service: Service, embed: bool, send: Any, question: Any, inputs: list[Any],
                   outputs: list[Any]) -> None:
    """Asking (the button, named "chat" for API callers, and Enter) streams into the chat."""
    def respond(text: str, conversation: Conversation, chosen: list[str] | None,
                low: str | None, high: str | None,
                scoped: tuple[str, ...]) -> Iterator[Outputs]:
        filters = Filters(tuple(chosen or scoped), (low or "").strip(), (high or "").strip())
        yield from stream_answer(service, text, conversation, filters, inline=embed)

    send.click(respond, inputs, outputs, api_name=CHAT_EVENT)
    question.submit(respond, inputs, outputs, api_visibility="private")


def add_upload_panel(page: gr.Blocks, service: Service, uploads: Uploads, picked: Any,
                     notice: Any) -> None:
    with gr.Accordion("Add articles", open=False):
        files = gr.File(file_count="multiple", file_types=FILE_TYPES,
                        label=", ".join(FILE_TYPES))
        upload = gr.Button("Index these files", elem_id="upload")
        upload_status = gr.Markdown(elem_id="upload-status")

    def index(paths: list[str] | None, request: gr.Request,
              progress: gr.Progress = gr.Progress()) -> Outputs:
        with shown_errors("indexing the files"):
            return index_files(service, uploads.check(request, paths or []), progress)

    upload.click(index, [files], [upload_status, picked, files, notice], api_name=UPLOAD_EVENT)


def stream_answer(service: Service, text: str, conversation: Conversation,
                  filters: Filters, inline: bool = False) -> Iterator[Outputs]:
    """Chat updates as the answer streams in; bad input becomes a gr.Error before any update, and
    so does the store or the LLM going away mid-answer (the chat is kept). `inline` puts the
    citations under the answer too (the embed)."""
    with shown_errors("answering"):
        events = service.stream(text, filters=filters, history=list(conversation.questions))
        yield from _updates(conversation, text, events, inline)


@contextmanager
def shown_errors(doing: str) -> Iterator[None]:
    """Errors the asker can fix as a gr.Error with their message; any other logged here with its
    traceback and shown as a generic gr.Error, so no repr or memory address reaches the page."""
    try:
        yield
    except gr.Error:
        raise
    except HUMAN_ERRORS as exc:
        raise gr.Error(str(exc)) from None
    except Exception:
        log.exception("unexpected error %s", doing)
        raise gr.Error(f"Something went wrong {doing}; the error was logged on the "
                       "server") from None


def _updates(conversation: Conversation, text: str, events: Iterator[Event],
             inline: bool) -> Iterator[Outputs]:
    """One chat update per event, as each arrives (never after draining the stream)."""
    streamed = ""
    for event in events:
        if event.kind == "token":
            streamed += event.data
            # whole text each time: a link may span tokens
            shown = conversation.asked(text, md_safe(streamed))
            yield list(shown.messages), gr.skip(), gr.skip(), "", gr.skip()
        elif event.kind == "done":
            result: Answer = event.data
            reply = chat_text(result) + ("\n\n" + inline_citations(result) if inline else "")
            done = conversation.asked(text, reply.rstrip())
            yield list(done.messages), sources_html(result), searched_for(result), "", done


def index_files(service: Service, paths: list[Path], progress: Any) -> Outputs:
    """Index the uploaded files one by one with progress, and report what happened; each file
    is deleted from Gradio's folder once read."""
    total = AddReport()
    for i, path in enumerate(paths):
        progress((i, len(paths)), desc=f"Indexing {path.name}")
        raw = path.read_bytes()
        path.unlink(missing_ok=True)
        try:
            total.merge(service.add_uploads([(path.name, raw)]))
        except StoreError as exc:
            raise gr.Error(f"{exc} (indexed before it: {total.summary()})") from None
    errors = "".join(f"\n- {md_text(e.path.removeprefix('upload:'))}: {md_text(e.reason)}"
                     for e in total.errors)  # file names are text, not Markdown
    return f"Indexed: {total.summary()}{errors}", choices(service), None, ""


def choices(service: Service) -> Any:
    return gr.update(choices=[(a.title or a.doc_id, a.doc_id) for a in service.documents()])


def on_load(service: Service, request: gr.Request) -> Outputs:
    """Read the page's `?source=` scope; say so when there is nothing to ask about yet."""
    raw = request.query_params.getlist("source")
    scoped = tuple(s.strip() for value in raw for s in value.split(",") if s.strip())
    try:
        documents = service.documents()
    except StoreError as exc:
        return (scoped, gr.skip(),
                f"<strong>The articles can't be read right now:</strong> {escape(str(exc))}")
    if not documents:
        notice = ("<strong>No articles are indexed yet.</strong> Add some under "
                  "<em>Add articles</em>.")
    elif scoped:
        titles = [a.title for a in documents if {a.doc_id, a.source} & set(scoped)]
        notice = f"Answering from: {escape(', '.join(titles)) or 'no matching article'}"
    else:
        notice = ""
    return scoped, choices(service), notice
