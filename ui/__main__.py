"""`python -m ui [--store DIR] [--host 127.0.0.1] [--port 7860]`: serve the API and the pages."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from index.errors import AppError
from index.settings import add_store_flags, describe, store_location
from qa.settings import ALL_SETTINGS, Settings, add_backend_flags
from qa.settings import load as load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ui", description="Serve the chat (/), the wiki embed (/embed) and the "
        "HTTP API (/api, docs at /docs) from one process.", epilog="settings:\n" +
        describe(ALL_SETTINGS), formatter_class=argparse.RawDescriptionHelpFormatter)
    add_store_flags(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=7860, help="port to listen on")
    add_backend_flags(parser)
    args = parser.parse_args(argv)
    import uvicorn

    from qa.service import Service
    from ui.server import create_app

    try:
        settings = with_host(load_settings(args=args), args.host)
        service = Service.open(*store_location(args.store, args.chroma_url, settings), settings,
                               must_exist=False)
    except AppError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Serving on http://{args.host}:{args.port}  (chat /, embed /embed, API /docs)")
    if args.host in ANY_ADDRESS and "*" not in settings.allowed_hosts:
        names = ", ".join(settings.allowed_hosts)
        print(f"note: requests are answered only for the host names {names}: set "
              "QA_ALLOWED_HOSTS to the name clients use", file=sys.stderr)
    keyed = settings.api_keys or settings.read_keys
    if args.host not in ("127.0.0.1", "localhost", "::1") and not keyed:
        print("warning: no QA_API_KEYS: anyone who reaches this address may add and remove "
              "articles", file=sys.stderr)
    proxies = settings.trusted_proxies
    uvicorn.run(create_app(service, settings), host=args.host, port=args.port,
                log_level="warning", proxy_headers=bool(proxies),
                forwarded_allow_ips=list(proxies) or None)
    return 0


ANY_ADDRESS = ("0.0.0.0", "::", "")


def with_host(settings: Settings, host: str) -> Settings:
    """The settings, with the address listened on among the allowed host names (unless it is
    every address, whose names only QA_ALLOWED_HOSTS can say)."""
    name = host.strip("[]").lower()
    if name in ANY_ADDRESS or name in settings.allowed_hosts:
        return settings
    return replace(settings, allowed_hosts=(*settings.allowed_hosts, name))


if __name__ == "__main__":
    from index.exits import run_cli

    sys.exit(run_cli(main))
