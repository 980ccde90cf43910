"""Settings of answering and serving, declared like the store's (see index.settings), read once."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, replace

from index.settings import SettingError, StoreSettings, positive_int, read_settings, setting
from qa.llm import BACKENDS, MAX_ANSWER_TOKENS

BACKEND_FLAGS = ("backend", "model", "base_url")  # flags that lay over the settings of that name


def origins(raw: str) -> tuple[str, ...]:
    """Space- or comma-separated CSP sources such as 'self' https://wiki.example.com."""
    values = tuple(v for v in raw.replace(",", " ").split() if v)
    bad = [v for v in values if any(c in v for c in ";\"<>")]
    if bad:
        raise ValueError(f"not a CSP source: {bad[0]!r}")
    return values


def parse_keys(raw: str) -> tuple[str, ...]:
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


def host_names(raw: str) -> tuple[str, ...]:
    """Comma- or space-separated host names or addresses, without scheme or port."""
    values = tuple(v.strip().lower() for v in raw.replace(",", " ").split() if v.strip())
    bad = [v for v in values if "/" in v or any(c in v for c in ";\"<>@")]
    if bad:
        raise ValueError(f"not a host name: {bad[0]!r} (write the name alone, no scheme or path)")
    return values


def parse_pages(raw: str) -> str:
    if raw not in ("open", "key", "login"):
        raise ValueError("expected open, key or login")
    return raw


def non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("expected 0 or a positive integer")
    return value


def positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0 or value == float("inf"):
        raise ValueError("expected a positive number of seconds")
    return value


def parse_backend(raw: str) -> str:
    if raw not in BACKENDS:
        raise ValueError(f"expected one of {', '.join(BACKENDS)}")
    return raw


@dataclass(frozen=True)
class Settings(StoreSettings):
    """Every setting of the process, typed, each read once from `QA_<NAME>` (see `load`)."""

    k: int = setting(positive_int, 5, "Passages retrieved per question.")
    max_k: int = setting(positive_int, 20, "Most passages a caller may ask for (k); the reader "
                         "reads the first 10 of them.")
    answer_seconds: float = setting(positive_float, 10.0, "Time budget of one answer, in "
                                    "seconds: past it the answer stops with a 503 (too_slow).")
    max_question_chars: int = setting(positive_int, 2000, "Longest question accepted.")
    backend: str = setting(parse_backend, "extractive",
                           "Answer generator: extractive, llamacpp, openai.")
    model: str = setting(str, "", "GGUF file or a shipped model's name such as smollm2 "
                         "(llamacpp), or a model name (openai).")
    base_url: str = setting(str, "", "OpenAI-compatible server URL, e.g. http://host:8000/v1.")
    llm_api_key: str = setting(str, "", "API key for the openai backend (never printed).",
                               secret=True)
    max_tokens: int = setting(positive_int, MAX_ANSWER_TOKENS,
                              "Longest generated answer, in tokens.")
    frame_ancestors: tuple[str, ...] = setting(
        origins, ("'self'", "http://localhost:*", "http://127.0.0.1:*"),
        "Origins allowed to frame the pages (CSP frame-ancestors), e.g. https://wiki.corp.")
    max_upload_mb: int = setting(positive_int, 20, "Largest upload request accepted, in MB.")
    max_upload_files: int = setting(positive_int, 50, "Most files accepted in one upload.")
    concurrency: int = setting(positive_int, 4, "Chat answers computed at once per page.")
    api_keys: tuple[str, ...] = setting(
        parse_keys, (), "Comma-separated read-write API keys; when a key is set, /api/* needs "
        "`Authorization: Bearer KEY`.", secret=True)
    read_keys: tuple[str, ...] = setting(
        parse_keys, (), "Comma-separated read-only keys (16+ characters): they open the pages "
        "and ask, list and check health, but never add or remove articles. Give a wiki one.",
        secret=True)
    pages: str = setting(parse_pages, "open", "Who may open the chat and /embed: open, key (a "
                         "key, via ?key= once) or login.")
    page_users: tuple[tuple[str, str], ...] = setting(
        users, (), "NAME:PASSWORD pairs for QA_PAGES=login (comma-separated).", secret=True)
    rate_per_minute: int = setting(non_negative_int, 60, "Requests per minute per API key (or "
                                   "client address without one); 0 = no limit.")
    rate_burst: int = setting(positive_int, 30, "Requests allowed at once before the rate "
                              "applies.")
    max_body_kb: int = setting(positive_int, 512, "Largest request body accepted outside "
                               "uploads (questions, chat calls), in KB.")
    max_history_turns: int = setting(positive_int, 50, "Most earlier turns a question may "
                                     "carry (each at most twice QA_MAX_QUESTION_CHARS long).")
    allowed_hosts: tuple[str, ...] = setting(
        host_names, ("localhost", "127.0.0.1", "::1"), "Host names this service answers to "
        "(comma-separated; *.corp.example for subdomains, * for any): others are a 400, which "
        "stops DNS rebinding. `python -m ui --host NAME` adds NAME.")
    max_in_flight: int = setting(non_negative_int, 4, "Answers one client (key or address) may "
                                 "have computed at once through the API; 0 = no limit.")
    cookie_secret: str = setting(str, "", "Secret that signs the page cookie (give every replica "
                                 "the same one); random per process by default.", secret=True)
    page_cookie_hours: float = setting(positive_float, 12.0, "Hours a page cookie (from ?key=) "
                                       "and a login session (QA_PAGES=login) last.")
    trusted_proxies: tuple[str, ...] = setting(
        proxies, (), "Addresses of reverse proxies whose X-Forwarded-For is believed "
        "(comma-separated IPs, or * for any); none by default.")


ALL_SETTINGS = Settings


def load(environ: Mapping[str, str] | None = None, args: argparse.Namespace | None = None,
         ) -> Settings:
    """The process's settings: the environment, the backend flags that were given laid over it,
    the access settings checked together. The one way the entry points build them."""
    settings = read_settings(Settings, environ)
    given = {name: getattr(args, name) for name in BACKEND_FLAGS
             if args is not None and getattr(args, name, None) is not None}
    return check_access(replace(settings, **given))


def check_access(settings: Settings) -> Settings:
    """The settings, if the access settings fit together; SettingError naming the key if not."""
    if settings.pages == "key" and not (settings.api_keys or settings.read_keys):
        raise SettingError("Setting QA_PAGES=key needs QA_API_KEYS or QA_READ_KEYS: the pages "
                           "take the same keys")
    if settings.pages == "login" and not settings.page_users:
        raise SettingError("Setting QA_PAGES=login needs QA_PAGE_USERS (NAME:PASSWORD pairs)")
    if settings.pages == "login" and not settings.api_keys:
        raise SettingError("Setting QA_PAGES=login protects the pages but not the API: set "
                           "QA_API_KEYS too (read-write keys; then /api/* and adding or removing "
                           "articles need one), or the API stays open to anyone for writes")
    return settings


def add_backend_flags(parser: argparse.ArgumentParser) -> None:
    """--backend, --model and --base-url: the same three flags on every command that answers."""
    parser.add_argument("--backend", choices=BACKENDS,
                        help="answer generator (default: $QA_BACKEND or extractive)")
    parser.add_argument("--model", help="GGUF file for llamacpp, model name for openai "
                        "(default: $QA_MODEL)")
    parser.add_argument("--base-url", help="OpenAI-compatible server URL (default: $QA_BASE_URL)")
