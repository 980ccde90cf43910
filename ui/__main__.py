"""`python -m ui [--store DIR] [--host 127.0.0.1] [--port 7860]`: serve the API and the pages."""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
from dataclasses import replace
from pathlib import Path

from index.errors import AppError
from index.settings import SettingError, add_store_flags, describe, store_location
from qa.errors import EmptyStore
from qa.settings import ALL_SETTINGS, Settings, add_backend_flags
from qa.settings import load as load_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ui", description="Serve the chat (/), the wiki embed (/embed) and the "
        "HTTP API (/api, docs at /docs) from one process.", epilog="settings:\n" +
        describe(ALL_SETTINGS), formatter_class=argparse.RawDescriptionHelpFormatter)
    add_store_flags(parser)
    parser.add_argument("--create", action="store_true",
                        help="serve a new, empty store when the --store folder does not exist "
                        "(without it, a missing folder is an error: a mistyped path)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=7860, help="port to listen on")
    add_backend_flags(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = with_host(load_settings(args=args), args.host)
        path, url = store_location(args.store, args.chroma_url, settings)
        check_store(path, url, args.create)  # these two before the seconds of loading models
        check_port(args.host, args.port)
        from qa.service import Service

        service = Service.open(path, url, settings, must_exist=False)
    except AppError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    import uvicorn

    from ui.server import create_app

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


def check_port(host: str, port: int) -> None:
    """A SettingError naming the port unless this process could listen on host:port (bound
    and let go at once, with SO_REUSEADDR as uvicorn binds, so only a listener counts)."""
    name = host.strip("[]")
    family = socket.AF_INET6 if ":" in name else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((name, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                holder = port_holder(port) or f"`ss -ltnp 'sport = :{port}'` shows which"
                raise SettingError(f"Port {port} is already in use on {host or 'every address'} "
                                   f"({holder}): pick another with --port") from None
            raise SettingError(f"Cannot listen on {host}:{port}: "
                               f"{exc.strerror or exc}; pick another --host or --port") from None


def port_holder(port: int) -> str:
    """`pid N: COMMAND` of the process listening on TCP `port`, where Linux's /proc shows it
    to this user; "" elsewhere."""
    sockets = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = [row.split() for row in Path(table).read_text().splitlines()[1:]]
        except OSError:
            continue
        sockets |= {f"socket:[{r[9]}]" for r in rows
                    if len(r) > 9 and r[3] == "0A" and int(r[1].rsplit(":", 1)[1], 16) == port}
    for fds in Path("/proc").glob("[0-9]*/fd") if sockets else ():
        try:
            if any(os.readlink(fd) in sockets for fd in fds.iterdir()):
                command = (fds.parent / "cmdline").read_bytes().replace(b"\0", b" ")
                return f"pid {fds.parent.name}: {command.decode(errors='replace').strip()[:80]}"
        except OSError:  # another user's process, or one that just ended
            continue
    return ""


def check_store(path: str, url: str | None, create: bool) -> None:
    """EmptyStore unless the store folder exists, a Chroma server holds the store, or
    `--create` asks for a new one: a mistyped --store would otherwise serve an empty store."""
    if url or create or Path(path).is_dir():
        return
    raise EmptyStore(f"There is no store at {path}: check the path, add articles first with "
                     f"`python -m index add PATH --store {path}`, or pass --create to serve a "
                     "new, empty store there")


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
