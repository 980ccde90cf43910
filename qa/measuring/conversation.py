"""`python -m qa.measuring.conversation --store DIR --questions QUESTIONS.jsonl [--limit N]`

Does a long conversation change the answers to questions that stand on their own (issue 23)?
The same questions (the ../shared/eval JSONL format: each line has "question") are asked

- (a) each on a fresh page, with no history, and
- (b) one after another in one long conversation: each with the questions before it as its
  history (the last `max_history_turns` of them, as the service takes at most that many),

and it prints how many get the same answer text both ways, how many of the conversation's queries
were rewritten (searched as something other than the question as typed), and each question whose
answer changed. Every question is meant to stand alone, so the ideal is all the same, none
rewritten. Each answer may take `--answer-seconds` (120 by default, not the service's 10): this
measures what is answered, not how fast, and a busy machine must not turn answers into errors.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from qa.service import Service
from qa.settings import load
from qa.types import Answer


@dataclass
class Outcome:
    asked: int = 0
    same: int = 0
    rewritten: int = 0
    changed: list[tuple[str, str, str, str]] = field(default_factory=list)  # question, query, a, b


def read_questions(path: Path, limit: int | None = None) -> list[str]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [json.loads(line)["question"] for line in lines][:limit]


def measure(service: Service, questions: Sequence[str]) -> Outcome:
    """Each question on a fresh page, then all of them in one conversation."""
    fresh = [service.ask(q) for q in questions]
    outcome = Outcome(asked=len(questions))
    for i, (question, alone) in enumerate(zip(questions, fresh, strict=True)):
        history = list(questions[max(0, i - service.max_history_turns):i])
        talked = service.ask(question, history=history)
        if _searched(talked) != " ".join(question.split()):
            outcome.rewritten += 1
        if talked.answer == alone.answer:
            outcome.same += 1
        else:
            outcome.changed.append((question, _searched(talked), alone.answer, talked.answer))
    return outcome


def _searched(answer: Answer) -> str:
    return answer.query or answer.question


def report(outcome: Outcome) -> str:
    lines = [f"questions: {outcome.asked}",
             f"same answer text on a fresh page and in the conversation: {outcome.same} of "
             f"{outcome.asked}",
             f"queries rewritten in the conversation: {outcome.rewritten} of {outcome.asked}"]
    for question, query, alone, talked in outcome.changed:
        lines += [f"- changed: {question}", f"    searched: {query}",
                  f"    fresh: {_short(alone)}", f"    in conversation: {_short(talked)}"]
    return "\n".join(lines)


def _short(text: str, chars: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= chars else text[:chars - 3] + "..."


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.measuring.conversation",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", required=True, help="an indexed store, e.g. ./store")
    parser.add_argument("--questions", required=True, type=Path,
                        help="questions JSONL, e.g. ../shared/eval/news-dev-2023/questions.jsonl")
    parser.add_argument("--limit", type=int, default=None, help="the first N questions only")
    parser.add_argument("--answer-seconds", type=float, default=120.0,
                        help="time budget of one answer (the service's default is 10)")
    args = parser.parse_args(argv)
    service = Service.open(args.store, None, replace(load(), answer_seconds=args.answer_seconds))
    print(report(measure(service, read_questions(args.questions, args.limit))))
    return 0


if __name__ == "__main__":
    from index.exits import run_cli

    raise SystemExit(run_cli(main))
