"""Settings read from the environment: declared once as data, each read once, typed, with help.

This module does not read files or parse command lines; the CLIs pass flags over these values
(`add_store_flags` declares the two store flags every CLI shares).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, field, fields
from typing import Any, TypeVar

from index.errors import AppError


class SettingError(AppError, ValueError):
    """A setting has a value that cannot be used; the message names the key."""

    code, status = "bad_setting", 500


def setting(cast: Callable[[str], Any], default: Any, help: str, secret: bool = False) -> Any:
    """A field of a settings class: read once from `QA_<NAME>` by `cast`, with its default and a
    line of help; a `secret` value (a key, a password) is never repeated in an error."""
    return field(default=default, metadata={"cast": cast, "help": help, "secret": secret})


def positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("expected a positive integer")
    return value


def parse_url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError("expected a URL such as http://127.0.0.1:8000")
    return raw.rstrip("/")


def parse_precision(raw: str) -> str:
    if raw not in ("auto", "fp32", "bf16", "int8"):
        raise ValueError("expected auto, fp32, bf16 or int8")
    return raw


@dataclass(frozen=True)
class StoreSettings:
    """The settings of indexing and the store (qa.settings.Settings adds answering and serving)."""

    store: str = setting(str, "./store", "Folder of the embedded Chroma store.")
    chroma_url: str | None = setting(parse_url, None,
                                     "URL of a Chroma server; overrides QA_STORE.")
    embed_batch: int = setting(positive_int, 64, "Chunks embedded per model call.")
    embed_precision: str = setting(
        parse_precision, "auto",
        "Embedding arithmetic: fp32, bf16, int8 (ONNX), or auto (int8 if onnx is installed).")


STORE_SETTINGS = StoreSettings
S = TypeVar("S", bound=StoreSettings)


def key_of(item: Field[Any]) -> str:
    return f"QA_{item.name.upper()}"


def read_settings(declared: type[S], environ: Mapping[str, str] | None = None) -> S:
    """Every setting of `declared` read once from the environment, typed; SettingError naming
    the first bad key."""
    env = os.environ if environ is None else environ
    return declared(**{item.name: _read(item, env) for item in fields(declared)})


def _read(item: Field[Any], environ: Mapping[str, str]) -> Any:
    key, raw = key_of(item), environ.get(key_of(item))
    if raw is None or raw.strip() == "":
        return item.default
    try:
        return item.metadata["cast"](raw.strip())
    except ValueError as exc:
        shown = key if item.metadata["secret"] else f"{key}={raw!r}"
        raise SettingError(f"Setting {shown} is invalid: {exc}") from None


def store_location(
    store_flag: str | None, url_flag: str | None, settings: StoreSettings
) -> tuple[str, str | None]:
    """(folder, server url or None): flags beat settings, and --store beats QA_CHROMA_URL."""
    url = url_flag or (None if store_flag else settings.chroma_url)
    return store_flag or settings.store, url


def add_store_flags(parser: Any) -> None:
    """Add `--store` and `--chroma-url` to an argparse parser (read with `store_location`)."""
    default = StoreSettings.__dataclass_fields__["store"].default
    parser.add_argument("--store", help=f"store folder (default: $QA_STORE or {default})")
    parser.add_argument("--chroma-url", help="Chroma server URL (default: $QA_CHROMA_URL)")


def describe(declared: type[StoreSettings]) -> str:
    """A plain-text table of the settings, for --help and the README."""
    return "\n".join(f"{key_of(f):<18} default {f.default!r:<12} {f.metadata['help']}"
                     for f in fields(declared))
