"""The chat pages: the full chat at `/` and the compact one for wiki iframes at `/embed`.

Only wiring: questions and the conversation go to `qa.service.Service.stream`, tokens are streamed
into the chat, the sources panel shows what the answer cites, uploads go to `Service.add_uploads`.
Errors the asker can fix become `gr.Error` messages. `?source=ID` (repeatable or comma-separated)
scopes a page to some articles.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from index.add import AddReport
from index.store import StoreError
from qa.errors import QAError
from qa.retrieve import FilterError, Filters
from qa.service import Service
from qa.types import Answer, Event
from ui.render import EMPTY, chat_text, md_safe, searched_for, sources_html

TITLE = "Ask the articles"
DESCRIPTION = ("Answers are made of sentences from the indexed articles; every one is cited, and "
               "the sources panel shows the passage it comes from.")
EXAMPLES = ["Who was killed at the fake roadblock?", "What did U.S. officials complain about?"]
FILE_TYPES = [".txt", ".md", ".html", ".htm", ".jsonl"]
Outputs = tuple[Any, ...]
HUMAN_ERRORS = (QAError, FilterError, StoreError)  # shown to the asker as they are


def build_chat(service: Service, embed: bool = False) -> gr.Blocks:
    """The page's components and events; `embed` drops the title, filters and uploads."""
    with gr.Blocks(title=TITLE, fill_height=embed) as page:
        scope = gr.State(())
        if not embed:
            gr.Markdown(f"# {TITLE}\n{DESCRIPTION}")
        notice = gr.Markdown(elem_id="notice")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = gr.Chatbot(elem_id="chat", height=380 if embed else 520, label="Chat",
                                  show_label=False, buttons=["copy"])
                searched = gr.Markdown(elem_id="searched-for")
                with gr.Row():
                    question = gr.Textbox(elem_id="question", show_label=False, scale=5,
                                          placeholder="Ask about the articles…", autofocus=True)
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
                with gr.Accordion("Add articles", open=False, visible=not embed):
                    files = gr.File(file_count="multiple", file_types=FILE_TYPES,
                                    label=", ".join(FILE_TYPES))
                    upload = gr.Button("Index these files", elem_id="upload")
                    upload_status = gr.Markdown(elem_id="upload-status")

        def respond(text: str, history: list[Any], chosen: list[str] | None, low: str | None,
                    high: str | None,
                    scoped: tuple[str, ...]) -> Iterator[Outputs]:
            filters = Filters(tuple(chosen or scoped), (low or "").strip(), (high or "").strip())
            yield from stream_answer(service, text, history, filters)

        ask_inputs = [question, chat, picked, date_from, date_to, scope]
        ask_outputs = [chat, sources, searched, question]
        send.click(respond, ask_inputs, ask_outputs, api_name="chat")
        question.submit(respond, ask_inputs, ask_outputs, api_visibility="private")
        upload.click(lambda paths, progress=gr.Progress(): index_files(service, paths, progress),
                     [files], [upload_status, picked, files, notice], api_name="upload")
        def load(request: gr.Request) -> Outputs:
            return on_load(service, request)

        page.load(load, None, [scope, picked, notice], api_visibility="private")
    return page


def stream_answer(service: Service, text: str, history: list[Any],
                  filters: Filters) -> Iterator[Outputs]:
    """Chat updates as the answer streams in; bad input becomes a gr.Error before any update."""
    try:
        events = service.stream(text, filters=filters, history=history)
        first = next(events)
    except HUMAN_ERRORS as exc:
        raise gr.Error(str(exc)) from None
    history = [*history, {"role": "user", "content": md_safe(text)},
               {"role": "assistant", "content": ""}]
    try:
        yield from _updates(history, first, events)
    except StoreError as exc:  # the store went away mid-answer: say so, keep the chat
        raise gr.Error(str(exc)) from None


def _updates(history: list[Any], first: Event, events: Iterator[Event]) -> Iterator[Outputs]:
    streamed = ""
    for event in [first, *events]:
        if event.kind == "token":
            streamed += event.data
            history[-1]["content"] = md_safe(streamed)  # whole text: a link may span tokens
            yield history, gr.skip(), gr.skip(), ""
        elif event.kind == "done":
            result: Answer = event.data
            history[-1]["content"] = chat_text(result)
            yield history, sources_html(result), searched_for(result), ""


def index_files(service: Service, paths: list[str] | None, progress: Any) -> Outputs:
    """Index the uploaded files one by one with progress, and report what happened."""
    if not paths:
        raise gr.Error("Choose one or more files first (.txt, .md, .html, .jsonl)")
    total = AddReport()
    for i, path in enumerate(paths):
        name = Path(path).name
        progress((i, len(paths)), desc=f"Indexing {name}")
        try:
            total.merge(service.add_uploads([(name, Path(path).read_bytes())]))
        except StoreError as exc:
            raise gr.Error(f"{exc} (indexed before it: {total.summary()})") from None
    errors = "".join(f"\n- {e.path.removeprefix('upload:')}: {e.reason}" for e in total.errors)
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
        return scoped, gr.skip(), f"**The articles can't be read right now:** {exc}"
    if not documents:
        notice = "**No articles are indexed yet.** Add some under *Add articles*."
    elif scoped:
        titles = [a.title for a in documents if {a.doc_id, a.source} & set(scoped)]
        notice = f"Answering from: {', '.join(titles) or 'no matching article'}"
    else:
        notice = ""
    return scoped, choices(service), notice
