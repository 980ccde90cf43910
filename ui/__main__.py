"""`python -m ui [--store DIR] [--host 127.0.0.1] [--port 7860]`: serve the chat."""

from __future__ import annotations

import argparse
import sys

from index.settings import SettingError, read_settings, store_location
from qa.errors import QAError
from qa.settings import ALL_SETTINGS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui", description="Serve the chat page.")
    parser.add_argument("--store", help="store folder (default: $QA_STORE or ./store)")
    parser.add_argument("--chroma-url", help="Chroma server URL (default: $QA_CHROMA_URL)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7860)
    args = parser.parse_args(argv)
    from index.embed import ModelError
    from index.store import StoreError
    from qa.service import Service
    from ui.app import build_demo

    try:
        settings = read_settings(ALL_SETTINGS)
        location = store_location(args.store, args.chroma_url, settings)
        service = Service.open(*location, settings)
    except (SettingError, StoreError, ModelError, QAError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    build_demo(service).queue(default_concurrency_limit=4).launch(
        server_name=args.host, server_port=args.port, show_error=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
