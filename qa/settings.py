"""Settings of answering and serving, declared like the store's (see index.settings), read once."""

from __future__ import annotations

import argparse
from typing import Any

from index.settings import STORE_SETTINGS, Setting, positive_int

BACKEND_FLAGS = {"backend": "QA_BACKEND", "model": "QA_MODEL", "base_url": "QA_BASE_URL"}


def origins(raw: str) -> tuple[str, ...]:
    """Space- or comma-separated CSP sources such as 'self' https://wiki.example.com."""
    values = tuple(v for v in raw.replace(",", " ").split() if v)
    bad = [v for v in values if any(c in v for c in ";\"<>")]
    if bad:
        raise ValueError(f"not a CSP source: {bad[0]!r}")
    return values


ANSWER_SETTINGS = (
    Setting("QA_K", positive_int, 5, "Passages retrieved per question."),
    Setting("QA_MAX_QUESTION_CHARS", positive_int, 2000, "Longest question accepted."),
)
def backend(raw: str) -> str:
    from qa.llm import BACKENDS

    if raw not in BACKENDS:
        raise ValueError(f"expected one of {', '.join(BACKENDS)}")
    return raw


LLM_SETTINGS = (
    Setting("QA_BACKEND", backend, "extractive", "Answer generator: extractive, llamacpp, openai."),
    Setting("QA_MODEL", str, "", "GGUF file (llamacpp) or model name (openai)."),
    Setting("QA_BASE_URL", str, "", "OpenAI-compatible server URL, e.g. http://host:8000/v1."),
    Setting("QA_LLM_API_KEY", str, "", "API key for the openai backend (never printed)."),
    Setting("QA_MAX_TOKENS", positive_int, 256, "Longest generated answer, in tokens."),
)
SERVE_SETTINGS = (
    Setting("QA_FRAME_ANCESTORS", origins,
            ("'self'", "http://localhost:*", "http://127.0.0.1:*"),
            "Origins allowed to frame the pages (CSP frame-ancestors), e.g. https://wiki.corp."),
    Setting("QA_MAX_UPLOAD_MB", positive_int, 20, "Largest upload request accepted, in MB."),
    Setting("QA_CONCURRENCY", positive_int, 4, "Chat answers computed at once per page."),
)
ALL_SETTINGS = STORE_SETTINGS + ANSWER_SETTINGS + LLM_SETTINGS + SERVE_SETTINGS


def add_backend_flags(parser: argparse.ArgumentParser) -> None:
    """--backend, --model and --base-url: the same three flags on every command that answers."""
    parser.add_argument("--backend", choices=("extractive", "llamacpp", "openai"),
                        help="answer generator (default: $QA_BACKEND or extractive)")
    parser.add_argument("--model", help="GGUF file for llamacpp, model name for openai "
                        "(default: $QA_MODEL)")
    parser.add_argument("--base-url", help="OpenAI-compatible server URL (default: $QA_BASE_URL)")


def with_backend_flags(settings: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """The settings with the backend flags that were given laid over them."""
    given = {key: getattr(args, flag) for flag, key in BACKEND_FLAGS.items()
             if getattr(args, flag, None) is not None}
    return {**settings, **given}
