"""`python -m index add|list|remove|stats`: manage the article store from the command line."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from index.errors import AppError
from index.settings import (
    STORE_SETTINGS,
    StoreSettings,
    add_store_flags,
    describe,
    read_settings,
    store_location,
)

USAGE_EXAMPLES = """examples:
  python -m index add data/samples notes.md feed.jsonl
  python -m index list
  python -m index remove 001_6af38f333212537e-2e53bb0c
  python -m index stats --chroma-url http://127.0.0.1:8000
"""


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    add_store_flags(common)
    parser = argparse.ArgumentParser(
        prog="python -m index", description="Index articles into the Chroma store.",
        epilog=USAGE_EXAMPLES + "\nsettings:\n" + describe(STORE_SETTINGS),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", parents=[common], help="add or update articles")
    add.add_argument("paths", nargs="+", metavar="PATH",
                     help="files or folders of .txt, .md, .html, .htm, .jsonl")
    commands.add_parser("list", parents=[common], help="list stored articles")
    remove = commands.add_parser("remove", parents=[common], help="remove an article")
    remove.add_argument("doc_id", metavar="DOC_ID")
    commands.add_parser("stats", parents=[common], help="show store statistics")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    try:
        settings = read_settings(STORE_SETTINGS)
        return COMMANDS[args.command](args, settings)
    except AppError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _open(args: argparse.Namespace, settings: StoreSettings) -> Any:
    from index.embed import MODEL_NAME
    from index.store import open_store

    return open_store(*store_location(args.store, args.chroma_url, settings), MODEL_NAME)


def cmd_add(args: argparse.Namespace, settings: StoreSettings) -> int:
    from index.add import add_paths
    from index.embed import load_embedder
    from index.progress import count_articles, reporter

    store = _open(args, settings)
    embedder = load_embedder(settings.embed_batch, precision=settings.embed_precision)
    started = time.perf_counter()
    progress = reporter(count_articles(args.paths), sys.stderr)
    try:
        report = add_paths(args.paths, store, embedder, on_progress=progress)
    except KeyboardInterrupt:
        progress.close()
        print("\ninterrupted: the articles written so far are stored; run the same "
              "command again to finish", file=sys.stderr)
        return 130
    progress.close()
    for error in report.errors:
        kind = "skipped" if error.skipped else "warning:" if error.warning else "cut"
        print(f"{kind} {error}", file=sys.stderr)
    print(f"{report.summary()} in {time.perf_counter() - started:.1f}s")
    return 1 if len(report.errors) > report.warnings() else 0


def cmd_list(args: argparse.Namespace, settings: StoreSettings) -> int:
    articles = _open(args, settings).list_articles()
    for a in articles:
        print(f"{a.doc_id}\t{a.chunks} chunks\t{a.date or '-'}\t{a.title}\t{a.source}")
    print(f"{len(articles)} articles", file=sys.stderr)
    return 0


def cmd_remove(args: argparse.Namespace, settings: StoreSettings) -> int:
    if _open(args, settings).remove(args.doc_id):
        print(f"removed {args.doc_id}")
        return 0
    print(f"error: no article with id {args.doc_id!r}; `python -m index list` shows the ids",
          file=sys.stderr)
    return 1


def cmd_stats(args: argparse.Namespace, settings: StoreSettings) -> int:
    from index.store import folder_size

    store = _open(args, settings)
    articles, chunks = store.count()
    print(f"store     {store.location}")
    print(f"articles  {articles}")
    print(f"chunks    {chunks}")
    if store_location(args.store, args.chroma_url, settings)[1] is None:
        print(f"disk      {folder_size(store.location) / 1e6:.1f} MB")
    return 0


COMMANDS = {"add": cmd_add, "list": cmd_list, "remove": cmd_remove, "stats": cmd_stats}

if __name__ == "__main__":
    from index.exits import run_cli

    sys.exit(run_cli(main))
