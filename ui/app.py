"""The chat page: a Gradio ChatInterface over one `qa.service.Service`.

Only wiring: questions go to the service, answers come back as Markdown with their sources, and
errors become `gr.Error` messages. It does not retrieve or answer by itself.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from qa.errors import QAError
from qa.service import Service
from qa.types import Answer

TITLE = "Ask the articles"
DESCRIPTION = "Answers are made of sentences from the indexed articles, each with its source."


def render(answer: Answer) -> str:
    """The answer as Markdown: text with [n] markers, then the cited quotes."""
    lines = [answer.answer, ""]
    if answer.citations:
        lines.append("**Sources**")
    for c in answer.citations:
        date = f", {c.date}" if c.date else ""
        lines.append(f"{c.n}. *{c.title}*{date} — `{c.source}`\n   > {c.quote}")
    if not answer.answerable and answer.passages:
        lines.append("**Nearest passages**")
        lines += [f"- *{p.title}*: {p.text[:200]}…" for p in answer.passages[:3]]
    return "\n".join(lines)


def build_demo(service: Service) -> gr.Blocks:
    def respond(message: str, history: list[Any]) -> str:
        try:
            return render(service.ask(message))
        except QAError as exc:
            raise gr.Error(str(exc)) from None

    return gr.ChatInterface(respond, title=TITLE, description=DESCRIPTION, api_name="chat",
                            examples=["Who was killed at the fake roadblock?",
                                      "What did U.S. officials complain about?"])
