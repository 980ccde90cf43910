"""`python -m qa ask "QUESTION"`: answer from the store with cited passages."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any

from index.errors import AppError
from index.settings import add_store_flags, describe, store_location
from qa.settings import ALL_SETTINGS, Settings, add_backend_flags
from qa.settings import load as load_settings
from qa.types import Answer, Event


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m qa", description="Answer questions from the indexed articles.",
        epilog="settings:\n" + describe(ALL_SETTINGS),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    ask = commands.add_parser("ask", help="answer one question")
    ask.add_argument("question", metavar="QUESTION")
    add_store_flags(ask)
    ask.add_argument("--k", type=int, help="passages to retrieve (default: $QA_K or 5)")
    ask.add_argument("--source", action="append", default=[],
                     help="only this source (path, url or doc id); repeatable")
    ask.add_argument("--date-from", default="", help="only articles dated on/after YYYY[-MM[-DD]]")
    ask.add_argument("--date-to", default="", help="only articles dated on/before YYYY[-MM[-DD]]")
    ask.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    add_backend_flags(ask)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    try:
        settings = load_settings(args=args)
        generative = settings.backend != "extractive"
        result = show(ask(args, settings), live=generative and not args.json)
    except (AppError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) if args.json
          else render_text(result))
    return 0


def ask(args: argparse.Namespace, settings: Settings) -> Iterator[Event]:
    from qa.retrieve import Filters
    from qa.service import Service, check_question

    check_question(args.question, settings.max_question_chars)
    filters = Filters(tuple(args.source), args.date_from, args.date_to)
    filters.bounds()
    if args.k is not None and args.k <= 0:
        raise ValueError(f"--k must be a positive number, got {args.k}")
    service = Service.open(*store_location(args.store, args.chroma_url, settings), settings)
    check_filters(filters, service.documents())
    return service.stream(args.question, k=args.k, filters=filters)


def check_filters(filters: Any, articles: list[Any]) -> None:
    """A ValueError that says so when the filters let no stored article through (rather than
    a refusal that reads as if the articles didn't answer)."""
    from qa.retrieve import Filters, matching_articles

    if filters == Filters() or matching_articles(filters, articles):
        return
    given = [f"--source {s}" for s in filters.sources] + [
        f"--{name} {value}" for name, value in (("date-from", filters.date_from),
                                                 ("date-to", filters.date_to)) if value]
    raise ValueError(f"No stored article matches {', '.join(given)} (of {len(articles)} "
                     "articles): a source is an article's path as `python -m index list` shows "
                     "it (a relative path is read from the current folder), its URL or its doc "
                     "id, and dates are YYYY[-MM[-DD]]")


def show(events: Iterator[Event], live: bool) -> Answer:
    """Print a generated answer's tokens as they come (to stderr), and return the final answer."""
    streamed = False
    for event in events:
        if event.kind == "token" and live:
            streamed = True
            print(event.data, end="", file=sys.stderr, flush=True)
        elif event.kind == "done":
            if streamed:
                print("\n", file=sys.stderr)
            if streamed and event.data.generator.template == "refusal":
                print("(unverified: no passage supports the model's answer above, so the answer "
                      "is a refusal)", file=sys.stderr)
            return event.data
    raise RuntimeError("the answer stream ended without an answer")


def render_text(result: Answer) -> str:
    lines = [result.answer, outcome_line(result), ""]
    unverified = [s.text for s in result.sentences if not s.supported]
    if unverified and result.answerable:
        lines += [f"Unverified (no cited passage supports it): {t}" for t in unverified] + [""]
    for c in result.citations:
        lines.append(f"[{c.n}] {c.title} ({c.date or 'undated'}) {c.source}")
        lines.append(f"    “{c.quote}” (characters {c.start}-{c.end})")
    if not result.answerable and result.passages:
        lines.append("Nearest passages:")
        for p in result.passages:
            lines.append(f"  - {p.title}: {p.text[:160]}…")
    return "\n".join(lines).rstrip()


def outcome_line(result: Answer) -> str:
    """`short: Zapata · answered (confidence 0.91)`: the short answer and the machine-readable
    outcome (answered, partial, not_found)."""
    reason = result.reason or ("answered" if result.answerable else "not_found")
    confidence = f" (confidence {result.confidence:.2f})" if result.confidence is not None else ""
    short = f"short: {result.short} · " if result.short else ""
    return f"{short}{reason}{confidence}"


if __name__ == "__main__":
    from index.exits import run_cli

    sys.exit(run_cli(main))
