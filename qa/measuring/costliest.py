"""`python -m qa.measuring.costliest --store DIR --questions QUESTIONS.jsonl [--rounds 3]`

The costliest questions one can send under the limits, against ordinary ones, in CPU seconds of
this process (every thread: the embedding and span models run in their own), on one store:

- ordinary: real questions (from `--questions`, the ../shared/eval format), default k, no
  history, each asked once (no cache helps);
- hostile, each built anew per round from random letters so that no cache helps either: the
  longest history (`QA_MAX_HISTORY_TURNS` turns, each a follow-up of the longest turn allowed),
  the longest question of words the store holds, the longest question of unknown words, both
  with the largest `k`, the most source filters, one 4,000-character word.

It prints a table (CPU seconds per request, and each as a multiple of the ordinary mean); issue 21
asks that the worst be at most 3x. Run it on an idle machine: CPU time, unlike wall time, does
not count the neighbours, but caches and frequency scaling still do.
"""

from __future__ import annotations

import argparse
import json
import random
import string
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from qa.measuring.bench import cpu_summary
from qa.retrieve import Filters
from qa.service import MAX_SOURCES, Service
from qa.settings import load

Case = Callable[[random.Random], tuple[str, int | None, Filters, list[str]]]


def words(rng: random.Random, n: int) -> str:
    return " ".join("".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 8)))
                    for _ in range(n))


def hostile_cases(service: Service, vocabulary: list[str]) -> dict[str, Case]:
    """Requests at the limits: each case builds its arguments from `rng` (fresh text every
    round), outside the time measured."""
    longest, turns, k = service.max_question_chars, service.max_history_turns, service.max_k

    def known(rng: random.Random, chars: int) -> str:
        return " ".join(rng.choices(vocabulary, k=chars // 4))[:chars - 1] + "?"

    ids = [a.doc_id for a in service.documents()][:MAX_SOURCES]
    return {
        f"{turns} follow-up turns of {2 * longest} chars, k={k}": lambda rng: (
            "and what about it?", k, Filters(), ["and " + words(rng, 2 * longest)[:2 * longest - 4]
                                                for _ in range(turns)]),
        f"{longest}-char question of stored words, k={k}": lambda rng: (
            known(rng, longest), k, Filters(), []),
        f"{longest}-char question of unknown words, k={k}": lambda rng: (
            words(rng, longest)[:longest - 1] + "?", k, Filters(), []),
        f"both, with {turns} turns of stored words": lambda rng: (
            "and " + known(rng, longest - 4), k, Filters(),
            ["and " + known(rng, 2 * longest - 4) for _ in range(turns)]),
        f"{len(ids)} source filters, k={k}": lambda rng: (
            known(rng, 200), k, Filters(tuple(ids)), []),
        f"one {longest}-char word": lambda rng: (
            "".join(rng.choices(string.ascii_lowercase, k=longest)), None, Filters(), []),
    }


def cpu_of(call: Callable[[], Any]) -> float:
    started = time.process_time()
    call()
    return time.process_time() - started


def measure(service: Service, questions: Sequence[str], rounds: int,
            seed: int = 21) -> list[tuple[str, float]]:
    """(case, mean CPU seconds per request); "ordinary" first."""
    rng = random.Random(seed)
    vocabulary = sorted({w for d in service.corpus().documents for w in d.page_content.split()
                         if w.isalpha()})
    service.ask(questions[0])  # load the models
    asked = iter(questions[1:])
    ordinary = [cpu_of(lambda: service.ask(next(asked))) for _ in range(min(
        len(questions) - 1, 10 * rounds))]
    rows = [("ordinary (real questions, default k)", sum(ordinary) / len(ordinary))]
    for name, case in hostile_cases(service, vocabulary).items():
        built = [case(rng) for _ in range(rounds)]
        spent = [cpu_of(lambda: service.ask(*args)) for args in built]  # noqa: B023 (called now)
        rows.append((name, sum(spent) / rounds))
    return rows


def table(rows: list[tuple[str, float]]) -> str:
    base = rows[0][1]
    lines = ["| request | CPU s | x ordinary |", "|---|---:|---:|"]
    lines += [f"| {name} | {cpu:.3f} | {cpu / base:.2f} |" for name, cpu in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.measuring.costliest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", required=True, help="an indexed store, e.g. ./store")
    parser.add_argument("--questions", required=True, type=Path,
                        help="questions JSONL, e.g. ../shared/eval/squad2-dev-500/questions.jsonl")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    service = Service.open(args.store, None, load())
    lines = args.questions.read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    rows = measure(service, questions, args.rounds)
    print(f"CPU: {cpu_summary()}\n{table(rows)}")
    print(f"worst: {max(cpu for _, cpu in rows[1:]) / rows[0][1]:.2f}x an ordinary question")
    return 0


if __name__ == "__main__":
    from index.exits import run_cli

    raise SystemExit(run_cli(main))
