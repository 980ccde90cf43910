"""Generative answers from a real LLM (SmolLM2-135M through llama.cpp): in-process for `llamacpp`,
behind a real OpenAI-compatible server process for `openai`. The small model writes weak answers:
these tests check the plumbing, the streaming, the recorded prompt and model, and the verifier."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk, ChatResult

from qa.llm import Backend, LLMError, chat_model
from qa.prompts import load_template
from qa.service import Service
from qa.serving.cli import main as qa_main
from qa.types import Answer
from tests.conftest import ROOT, free_port, smollm2_path, wait_until_up

pytestmark = pytest.mark.slow
QUESTION = "What did U.S. officials express frustration with?"


def llm_service(sample_service: Service, llm: Any, backend: Backend) -> Service:
    return Service(sample_service.store, sample_service.embedder, 3, backend=backend, llm=llm)


def llamacpp() -> Backend:
    return Backend("llamacpp", smollm2_path())


def check_generated(events: list[Any], backend: str, model: str) -> Answer:
    tokens = [e.data for e in events if e.kind == "token"]
    assert len(tokens) > 3, "the answer should arrive token by token"
    result: Answer = events[-1].data
    assert events[-1].kind == "done" and result.query == QUESTION
    template = load_template("answer")
    assert (result.generator.backend, result.generator.model) == (backend, model)
    assert (result.generator.template, result.generator.template_sha) == ("answer", template.sha)
    assert result.sentences and all(0 <= s.support <= 1.01 for s in result.sentences)
    assert {c.n for c in result.citations} == {n for s in result.sentences for n in s.citations}
    for c in result.citations:
        passage = next(p for p in result.passages if p.chunk_id == c.chunk_id)
        assert passage.text[c.start - passage.start : c.end - passage.start] == c.quote
    return result


def test_llamacpp_streams_a_verified_answer(sample_service: Service, smollm2: Any) -> None:
    service = llm_service(sample_service, smollm2, llamacpp())
    events = list(service.stream(QUESTION))
    result = check_generated(events, "llamacpp", "SmolLM2-135M-Instruct.Q4_1.gguf")
    assert "".join(e.data for e in events if e.kind == "token").strip()
    assert result.to_dict()["generator"]["template"] == "answer"


class Planted(BaseChatModel):
    """The real model's streamed answer, then a planted unsupported sentence and a citation to a
    passage that doesn't exist."""

    inner: Any
    tail: str = " The agents were smuggling diamonds to Norway [1]. Cables said so [9]."

    @property
    def _llm_type(self) -> str:
        return "planted"

    def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
        raise AssertionError("only streaming is used")

    def _stream(self, messages: Any, stop: Any = None, run_manager: Any = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        yield from self.inner._stream(messages, stop)
        yield ChatGenerationChunk(message=AIMessageChunk(content=self.tail))


def test_the_verifier_flags_planted_sentences_in_a_real_answer(sample_service: Service,
                                                               smollm2: Any) -> None:
    service = llm_service(sample_service, Planted(inner=smollm2), llamacpp())
    result = service.ask(QUESTION)
    diamonds = next(s for s in result.sentences if "diamonds" in s.text)
    assert not diamonds.supported and diamonds.support < 0.65
    cables = next(s for s in result.sentences if s.text.startswith("Cables said so"))
    assert 9 not in cables.citations and "[9]" not in result.answer
    assert all(c.n <= len(result.citations) for c in result.citations)


class Untouchable(BaseChatModel):
    @property
    def _llm_type(self) -> str:
        return "untouchable"

    def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
        raise AssertionError("the LLM must not be called")


def test_nothing_relevant_refuses_before_calling_the_llm(sample_service: Service) -> None:
    service = llm_service(sample_service, Untouchable(), llamacpp())
    result = service.ask("What is the boiling point of water at sea level?")
    assert not result.answerable and result.citations == ()
    assert result.generator.template == "refusal" and result.answer.startswith("The articles")


@pytest.fixture(scope="module")
def openai_url() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "tests.llm_server", smollm2_path(),
                               str(port)], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_until_up(f"{url}/models", 30, "the OpenAI-compatible server")
        yield url
    finally:
        server.kill()
        server.wait(10)


def test_openai_backend_streams_from_a_real_server(sample_service: Service,
                                                   openai_url: str) -> None:
    backend = Backend("openai", "smollm2", openai_url, max_tokens=96)
    service = llm_service(sample_service, chat_model(backend), backend)
    check_generated(list(service.stream(QUESTION)), "openai", "smollm2")


def test_the_cli_streams_and_records_the_model(sample_service: Service, use_model: None,
                                               capsys: Any) -> None:
    store = sample_service.store.location
    code = qa_main(["ask", QUESTION, "--store", store, "--backend", "llamacpp", "--model",
                    smollm2_path(), "--json", "--k", "3"])
    out = capsys.readouterr()
    assert code == 0, out.err
    data = json.loads(out.out)
    assert data["generator"]["model"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert {"text", "citations", "supported", "support", "reason"} == set(data["sentences"][0])
    code = qa_main(["ask", QUESTION, "--store", store, "--backend", "llamacpp", "--model",
                    smollm2_path(), "--k", "3"])
    out = capsys.readouterr()
    assert code == 0 and len(out.err.strip()) > 0 and out.out.strip()  # tokens live on stderr


@pytest.mark.parametrize("backend, message", [
    (Backend("llamacpp", "/nowhere/model.gguf"), "needs --model (QA_MODEL) to name a GGUF file"),
    (Backend("openai", "m"), "needs --base-url (QA_BASE_URL) and --model (QA_MODEL)"),
    (Backend("gpt"), "Unknown backend 'gpt'"),
])
def test_incomplete_backend_settings_are_named(backend: Backend, message: str) -> None:
    with pytest.raises(LLMError, match=message.replace("(", r"\(").replace(")", r"\)")):
        chat_model(backend)


def test_cli_reports_a_bad_backend_setting(capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_BACKEND", "gpt")
    assert qa_main(["ask", QUESTION]) == 1
    assert "QA_BACKEND='gpt' is invalid: expected one of extractive" in capsys.readouterr().err


def test_the_api_and_the_chat_stream_generated_tokens(sample_service: Service,
                                                      smollm2: Any) -> None:
    from fastapi.testclient import TestClient

    from index.settings import read_settings
    from qa.retrieve import Filters
    from qa.serving.api import create_api
    from qa.settings import ALL_SETTINGS
    from ui.app import Conversation, stream_answer
    from ui.render import chat_text

    service = llm_service(sample_service, smollm2, llamacpp())
    with TestClient(create_api(service, read_settings(ALL_SETTINGS, {})),
            base_url="http://127.0.0.1") as client, \
            client.stream("POST", "/api/ask/stream", json={"question": QUESTION}) as response:
        blocks = response.read().decode().strip().split("\n\n")
    kinds = [b.split("\n", 1)[0].removeprefix("event: ") for b in blocks]
    assert kinds.count("token") > 3 and kinds[-1] == "done"
    done = json.loads(blocks[-1].split("\n", 1)[1].removeprefix("data: "))
    assert done["generator"]["backend"] == "llamacpp" and done["sentences"]
    updates = list(stream_answer(service, QUESTION, Conversation(), Filters()))
    assert len(updates) > 3
    assert updates[-1][0][-1]["content"] == chat_text(service.ask(QUESTION))


class Scripted(BaseChatModel):
    """Replies with a fixed text: for testing what is done with a reply, not the reply."""

    reply: str

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
        from langchain_core.messages import AIMessage
        from langchain_core.outputs import ChatGeneration

        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self.reply))])


@pytest.mark.parametrize("reply, expected", [
    ("Who was wounded at the fake roadblock?\nExtra line", "Who was wounded at the fake roadblock?"),
    ("", "who was wounded? (killed fake roadblock)"),
    ("word " * 80, "who was wounded? (killed fake roadblock)"),
])
def test_follow_ups_are_condensed_by_the_llm_with_the_rule_as_fallback(reply: str,
                                                                        expected: str) -> None:
    from qa.answerers.generative import condense_with_llm

    history = ["Who was killed at the fake roadblock?"]
    assert condense_with_llm("and who was wounded?", history, Scripted(reply=reply)) == expected
    standalone = "What did U.S. officials complain about?"
    assert condense_with_llm(standalone, history, Untouchable()) == standalone


def test_the_real_model_condenses_a_follow_up(smollm2: Any) -> None:
    from qa.answerers.generative import condense_with_llm

    query = condense_with_llm("and who was wounded?", ["Who was killed at the fake roadblock?"],
                              smollm2)
    assert query and query != "and who was wounded?"


class Silent(BaseChatModel):
    @property
    def _llm_type(self) -> str:
        return "silent"

    def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
        raise AssertionError("only streaming is used")

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        yield ChatGenerationChunk(message=AIMessageChunk(content=""))


def test_an_empty_generation_becomes_a_refusal(sample_service: Service) -> None:
    result = llm_service(sample_service, Silent(), llamacpp()).ask(QUESTION)
    assert not result.answerable and result.answer.startswith("The articles don't say")
    assert result.generator.template == "refusal"


class Refusing(Silent):
    """Replies with the refusal that prompts/answer.txt asks for."""

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        yield ChatGenerationChunk(message=AIMessageChunk(content="The articles don't say."))


def test_the_model_s_refusal_is_recorded_in_the_answer(sample_service: Service) -> None:
    """The model's words are classified once, where they are generated; the chat reads the
    answer's `answerable` and `reason`, and shows a refusal without unverified marks."""
    from ui.render import chat_text

    result = llm_service(sample_service, Refusing(), llamacpp()).ask(QUESTION)
    assert not result.answerable and result.reason == "not_found"
    assert result.generator.template == "answer"
    assert chat_text(result) == "The articles don't say."


class Paced(BaseChatModel):
    """Streams a fixed reply word by word with a pause before each, noting when each was made."""

    reply: str
    pause: float = 0.15
    made: list[float] = []

    @property
    def _llm_type(self) -> str:
        return "paced"

    def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
        raise AssertionError("answers are streamed")

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        import time

        for word in self.reply.split(" "):
            time.sleep(self.pause)
            self.made.append(time.monotonic())
            yield ChatGenerationChunk(message=AIMessageChunk(content=word + " "))


def test_the_chat_and_the_api_show_tokens_while_the_model_writes(sample_service: Service) -> None:
    """By order in time, not by counting: the first update reaches the chat (and the first SSE
    token the client) before the model has written its last token."""
    import time

    from fastapi.testclient import TestClient

    from index.settings import read_settings
    from qa.retrieve import Filters
    from qa.serving.api import create_api
    from qa.settings import ALL_SETTINGS
    from ui.app import Conversation, stream_answer

    reply = "U.S. officials were frustrated with the risk averse Mexican military [1] ."
    model = Paced(reply=reply)
    service = llm_service(sample_service, model, Backend("openai", "paced"))
    first = None
    for _ in stream_answer(service, QUESTION, Conversation(), Filters()):
        first = first or time.monotonic()
    assert first is not None and first < model.made[-1] - 0.5, (first, model.made)
    model.made.clear()
    with TestClient(create_api(service, read_settings(ALL_SETTINGS, {})),
            base_url="http://127.0.0.1") as client, \
            client.stream("POST", "/api/ask/stream", json={"question": QUESTION}) as response:
        lines = response.iter_lines()
        assert any(line == "event: token" for line in lines)
        token_seen = time.monotonic()
        rest = [line for line in lines if line]
    assert rest[-1].startswith("data: ") and token_seen < model.made[-1] - 0.5


class Down(BaseChatModel):
    """A chat model whose server refuses every connection, or (`after`) drops it mid-answer."""

    after: int = 0

    @property
    def _llm_type(self) -> str:
        return "down"

    def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        for _ in range(self.after):
            yield ChatGenerationChunk(message=AIMessageChunk(content="Officials "))
        raise ConnectionRefusedError("[Errno 111] Connection refused")


def test_an_llm_server_that_is_down_is_a_502_not_a_500(sample_service: Service) -> None:
    from fastapi.testclient import TestClient

    from index.settings import read_settings
    from qa.serving.api import create_api
    from qa.settings import ALL_SETTINGS

    def api(model: Down) -> TestClient:
        service = llm_service(sample_service, model, Backend("openai", "m", "http://x/v1"))
        return TestClient(create_api(service, read_settings(ALL_SETTINGS, {})),
                          base_url="http://127.0.0.1")

    with api(Down()) as client:
        response = client.post("/api/ask", json={"question": QUESTION})
        assert response.status_code == 502, response.text
        error = response.json()["error"]
        assert error["code"] == "llm_unavailable" and "Connection refused" in error["message"]
    for model, tokens in ((Down(), 0), (Down(after=2), 2)):  # in the stream: an error event
        with api(model) as client, \
                client.stream("POST", "/api/ask/stream", json={"question": QUESTION}) as stream:
            blocks = stream.read().decode().strip().split("\n\n")
        kinds = [b.split("\n", 1)[0] for b in blocks]
        assert kinds == ["event: token"] * tokens + ["event: error"]
        data = blocks[-1].split("\n", 1)[1].removeprefix("data: ")
        assert json.loads(data) == {"error": error}  # the one error shape


HALLUCINATION = "U.S. officials were frustrated with the price of Belgian chocolate. [1]"


class Hallucinating(Silent):
    """Replies with a sentence that cites a passage no passage supports."""

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        for word in HALLUCINATION.split(" "):
            yield ChatGenerationChunk(message=AIMessageChunk(content=word + " "))


def test_an_answer_with_no_supported_sentence_is_a_refusal(sample_service: Service) -> None:
    """Issue 23: not the model's unverified text under "citations checked", but the refusal the
    extractive backend gives, with what the model wrote kept (unsupported) in `sentences`."""
    from ui.render import chat_text, searched_for

    events = list(llm_service(sample_service, Hallucinating(), llamacpp()).stream(QUESTION))
    assert "".join(e.data for e in events if e.kind == "token").strip() == HALLUCINATION
    assert not [e for e in events if e.kind == "citation"]
    result: Answer = events[-1].data
    assert not result.answerable and result.reason == "not_found" and result.citations == ()
    assert result.answer == load_template("refusal").render(question=QUESTION)
    assert result.generator.template == "refusal" and result.generator.backend == "llamacpp"
    assert result.sentences and not any(s.supported for s in result.sentences)
    assert "chocolate" in result.sentences[0].text
    assert chat_text(result) == result.answer and searched_for(result) == ""


def fake_openai(reply: str) -> Any:
    """An OpenAI-compatible chat endpoint that streams `reply` word by word, whatever is asked."""
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse

    app = FastAPI()

    def chunk(delta: dict[str, str], finish: str | None = None) -> str:
        return "data: " + json.dumps({
            "id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "fake",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}) + "\n\n"

    @app.post("/v1/chat/completions")
    def complete() -> StreamingResponse:
        words = [chunk({"role": "assistant", "content": ""})] + [
            chunk({"content": w + " "}) for w in reply.split(" ")]
        return StreamingResponse(iter([*words, chunk({}, "stop"), "data: [DONE]\n\n"]),
                                 media_type="text/event-stream")

    return app


def test_the_cli_shows_an_unsupported_generated_answer_as_the_refusal(
        sample_service: Service, use_model: None, capsys: Any) -> None:
    """`qa ask --backend openai` against a server that hallucinates: stdout is the refusal and
    its `not_found` line, as with the extractive backend; the streamed text is marked on stderr."""
    from tests.conftest import serve

    store = sample_service.store.location
    refusal = load_template("refusal").render(question=QUESTION)
    with serve(fake_openai(HALLUCINATION)) as url:
        argv = ["ask", QUESTION, "--store", store, "--backend", "openai", "--base-url",
                f"{url}/v1", "--model", "fake", "--k", "3"]
        assert qa_main(argv) == 0
        out = capsys.readouterr()
        assert qa_main([*argv, "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
    assert out.out.splitlines()[:2] == [refusal, "not_found"]
    assert "chocolate" not in out.out and "Unverified" not in out.out
    assert "chocolate" in out.err and "no passage supports the model's answer above" in out.err
    assert data["answer"] == refusal and data["answerable"] is False
    assert data["reason"] == "not_found" and data["citations"] == []
