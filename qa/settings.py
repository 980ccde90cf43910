"""Settings of answering and serving, declared like the store's (see index.settings), read once."""

from __future__ import annotations

import argparse
from typing import Any

from index.settings import STORE_SETTINGS, Setting, SettingError, positive_int

BACKEND_FLAGS = {"backend": "QA_BACKEND", "model": "QA_MODEL", "base_url": "QA_BASE_URL"}


def origins(raw: str) -> tuple[str, ...]:
    """Space- or comma-separated CSP sources such as 'self' https://wiki.example.com."""
    values = tuple(v for v in raw.replace(",", " ").split() if v)
    bad = [v for v in values if any(c in v for c in ";\"<>")]
    if bad:
        raise ValueError(f"not a CSP source: {bad[0]!r}")
    return values


def api_keys(raw: str) -> tuple[str, ...]:
    """Comma-separated keys of at least 16 characters, without spaces."""
    keys = tuple(k.strip() for k in raw.split(",") if k.strip())
    if any(len(k) < 16 or any(c.isspace() for c in k) for k in keys):
        raise ValueError("each key needs at least 16 characters and no spaces "
                         "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(24))'`)")
    return keys


def users(raw: str) -> tuple[tuple[str, str], ...]:
    """Comma-separated NAME:PASSWORD pairs for the chat's login form."""
    pairs = tuple(tuple(p.strip().split(":", 1)) for p in raw.split(",") if p.strip())
    if any(len(p) != 2 or not p[0] or len(p[1]) < 8 for p in pairs):
        raise ValueError("expected NAME:PASSWORD pairs, passwords of at least 8 characters")
    return pairs  # type: ignore[return-value]


def proxies(raw: str) -> tuple[str, ...]:
    """Comma- or space-separated IP addresses (or networks), or `*`."""
    import ipaddress

    values = tuple(v for v in raw.replace(",", " ").split() if v)
    for v in values:
        if v != "*":
            ipaddress.ip_network(v, strict=False)  # ValueError names the bad one
    return values


def pages(raw: str) -> str:
    if raw not in ("open", "key", "login"):
        raise ValueError("expected open, key or login")
    return raw


def non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("expected 0 or a positive integer")
    return value


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
    Setting("QA_LLM_API_KEY", str, "", "API key for the openai backend (never printed).",
            secret=True),
    Setting("QA_MAX_TOKENS", positive_int, 256, "Longest generated answer, in tokens."),
)
SERVE_SETTINGS = (
    Setting("QA_FRAME_ANCESTORS", origins,
            ("'self'", "http://localhost:*", "http://127.0.0.1:*"),
            "Origins allowed to frame the pages (CSP frame-ancestors), e.g. https://wiki.corp."),
    Setting("QA_MAX_UPLOAD_MB", positive_int, 20, "Largest upload request accepted, in MB."),
    Setting("QA_MAX_UPLOAD_FILES", positive_int, 50, "Most files accepted in one upload."),
    Setting("QA_CONCURRENCY", positive_int, 4, "Chat answers computed at once per page."),
    Setting("QA_API_KEYS", api_keys, (),
            "Comma-separated API keys; when set, /api/* needs `Authorization: Bearer KEY`.",
            secret=True),
    Setting("QA_READ_KEYS", api_keys, (),
            "Comma-separated read-only keys (16+ characters): they open the pages and ask, list "
            "and check health, but never add or remove articles. Give a wiki one of these.",
            secret=True),
    Setting("QA_PAGES", pages, "open",
            "Who may open the chat and /embed: open, key (an API key, via ?key= once) or login."),
    Setting("QA_PAGE_USERS", users, (), "NAME:PASSWORD pairs for QA_PAGES=login (comma-separated).",
            secret=True),
    Setting("QA_RATE_PER_MINUTE", non_negative_int, 60,
            "Requests per minute per API key (or client address without one); 0 = no limit."),
    Setting("QA_RATE_BURST", positive_int, 30, "Requests allowed at once before the rate applies."),
    Setting("QA_MAX_BODY_KB", positive_int, 512,
            "Largest request body accepted outside uploads (questions, chat calls), in KB."),
    Setting("QA_MAX_HISTORY_TURNS", positive_int, 50,
            "Most earlier turns a question may carry (each at most QA_MAX_QUESTION_CHARS long)."),
    Setting("QA_TRUSTED_PROXIES", proxies, (),
            "Addresses of reverse proxies whose X-Forwarded-For is believed (comma-separated IPs, "
            "or * for any); none by default, so the client address is the connection's."),
)
ALL_SETTINGS = STORE_SETTINGS + ANSWER_SETTINGS + LLM_SETTINGS + SERVE_SETTINGS


def check_access(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings, if the access settings fit together; SettingError naming the key if not."""
    if settings["QA_PAGES"] == "key" and not (settings["QA_API_KEYS"] or settings["QA_READ_KEYS"]):
        raise SettingError("Setting QA_PAGES=key needs QA_API_KEYS or QA_READ_KEYS: the pages "
                           "take the same keys")
    if settings["QA_PAGES"] == "login" and not settings["QA_PAGE_USERS"]:
        raise SettingError("Setting QA_PAGES=login needs QA_PAGE_USERS (NAME:PASSWORD pairs)")
    return settings


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
