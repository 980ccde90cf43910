"""Generative answering: numbered passages -> LLM (streamed) -> verified citations; the answerer
registered as `llamacpp` and `openai` (`Generative`, whichever chat model the backend made).

    for event in generate(query, question, passages, llm, embedder, idf, backend): ...

If the reader (`qa.reader`) finds no retrieved sentence likely enough to answer, it refuses without
calling the LLM. Otherwise the `answer` prompt gets the passages as numbered, quoted data, the
passage of the reader's best sentence first; tokens are passed on as they come; then `qa.verify`
checks every sentence against the passages it cites. An answer none of whose sentences is
supported is the refusal (`refusal.txt`, `answerable` false, reason `not_found`, no citations),
with the model's checked sentences kept in `sentences`. It does not retrieve: passages are
handed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from langchain_core.language_models import BaseChatModel

from index.embed import Embedder
from index.errors import AppError
from qa.answerers.extractive import default_reader, rank, refuse
from qa.answerers.registry import Needs, register
from qa.condense import is_follow_up, standalone, user_turns
from qa.llm import Backend, LLMError
from qa.prompts import load_template
from qa.types import Answer, Event, Generator, Passage
from qa.verify import is_refusal, verify


@register("llamacpp", "openai")
class Generative:
    """The LLM's answer, token by token, checked against the passages."""

    def __init__(self, needs: Needs) -> None:
        if needs.llm is None:
            raise LLMError(f"The {needs.backend.kind} backend has no chat model: make the service "
                           "with one (`qa.llm.chat_model`)")
        self.needs = needs

    def answer(self, question: str, query: str, passages: list[Passage]) -> Iterator[Event]:
        n = self.needs
        n.budget.check()
        yield from generate(query, question, passages, n.llm, n.embedder, n.idf, n.backend)


def generate(query: str, question: str, passages: list[Passage], llm: BaseChatModel,
             embedder: Embedder, idf: Callable[[str], float], backend: Backend,
             threshold: float | None = None) -> Iterator[Event]:
    """Events `token`..., `citation`..., `done` for one question; `threshold` overrides the
    reader's refusal threshold."""
    reader = default_reader()
    scored, _ = rank(query, passages, embedder, idf, reader)
    if not scored or scored[0].score < (reader.thresholds[0] if threshold is None else threshold):
        yield Event("done", gate_refusal(question, query, passages, backend))
        return
    lead = scored[0].passage.chunk_id
    passages = sorted(passages, key=lambda p: p.chunk_id != lead)  # the reader's best first
    template = load_template("answer")
    messages = template.messages(passages=number_passages(passages), question=query)
    text = ""
    for chunk in model_calls(llm.stream, messages):
        piece = str(chunk.content)
        if piece:
            text += piece
            yield Event("token", piece)
    if not text.strip():  # the model said nothing: say so the way a refusal does
        yield Event("done", gate_refusal(question, query, passages, backend))
        return
    checked = verify(text, passages, embedder)
    refused = is_refusal(checked.text)  # the model's own words: the one place they are read
    answerable = any(s.supported for s in checked.sentences) and not refused
    if not answerable and not refused:  # not one sentence supported: a refusal, as any other
        yield Event("done", replace(gate_refusal(question, query, passages, backend),
                                    sentences=checked.sentences))  # what the model wrote
        return
    result = Answer(question, checked.text.strip() or text.strip(), answerable, checked.citations,
                    tuple(passages), query, checked.sentences,
                    Generator(backend.kind, backend.model_name, template.name, template.sha),
                    reason="not_found" if refused else "")
    for citation in result.citations:
        yield Event("citation", citation)
    yield Event("done", result)


def gate_refusal(question: str, query: str, passages: list[Passage], backend: Backend) -> Answer:
    refusal = refuse(question, passages)
    template = load_template("refusal")
    return replace(refusal, query=query, generator=Generator(
        backend.kind, backend.model_name, template.name, template.sha))


def number_passages(passages: Sequence[Passage]) -> str:
    """Passages as numbered, quoted blocks: `[n] Title (date)` then the text in quotes."""
    blocks = []
    for n, p in enumerate(passages, start=1):
        head = f"[{n}] {p.title or 'Untitled'}" + (f" ({p.date})" if p.date else "")
        blocks.append(f'{head}\n"""{p.text.replace(chr(34) * 3, chr(34))}"""')
    return "\n\n".join(blocks)


TURN_CHARS = 300  # of each of the last two questions, in the LLM's condense prompt


def condense_with_llm(question: str, history: Sequence[Any], llm: BaseChatModel) -> str:
    """A follow-up rewritten by the LLM with the `condense` prompt; the rule's query otherwise,
    and whenever the model's rewrite is empty or runs long."""
    turns = user_turns(history)
    rule = standalone(question, history)
    if not turns or not is_follow_up(question):
        return rule
    template = load_template("condense")
    lines = "\n".join(f"User: {' '.join(t.split())[:TURN_CHARS]}" for t in turns[-2:])
    reply = str(next(model_calls(llm.invoke, template.messages(history=lines,
                                                               question=question))).content)
    rewritten = " ".join(reply.strip().splitlines()[0].split()) if reply.strip() else ""
    return rewritten if 0 < len(rewritten) <= 3 * len(rule) + 40 else rule


def model_calls(call: Callable[[Any], Any], messages: Any) -> Iterator[Any]:
    """What `call(messages)` gives (a reply, or each piece of a stream), with any failure of the
    model or its server (down, timed out, refusing) as an LLMError: a 502 for the API, a message
    in the chat, never a 500."""
    try:
        result = call(messages)
        yield from (result if isinstance(result, Iterator) else [result])
    except AppError:
        raise
    except Exception as exc:
        raise LLMError(f"The language model failed or could not be reached "
                       f"({type(exc).__name__}: {str(exc)[:200]}); check that its server is "
                       "up (QA_BASE_URL) or that the model file loads (QA_MODEL)") from exc
