"""`python -m qa.measuring.calibrate --eval DIR [--eval DIR ...]`: choose the citation-support
threshold on real QA data.

From each answerable question of a set in the ../shared/eval format it builds claims the way an LLM
writes them, "<question> <answer>", and scores them with `qa.verify.Supports`:

    supported    the claim against its gold passage
    wrong fact   the question with another question's answer, against the gold passage
    wrong place  the claim against the best BM25 passage that is not gold (same topic, other text)

It prints the score distributions and, for each threshold, how many supported claims pass and
how many unsupported ones are caught; the threshold with the best balanced accuracy (the mean of
the two, so neither kind of mistake is favoured) goes into `qa.verify.SUPPORT_THRESHOLD`.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

import numpy as np

from index.embed import Embedder, load_embedder
from qa.lexical import BM25
from qa.types import Passage
from qa.verify import Supports

WINDOW = 700  # characters of context around an answer, for sets whose documents are whole papers


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def passage_around(text: str, answer: str) -> str:
    at = max(text.find(answer), 0)
    return text[max(0, at - WINDOW) : at + len(answer) + WINDOW]


def triples(folder: Path, limit: int, seed: int = 0) -> list[tuple[str, str, str, str]]:
    """(claim, wrong-fact claim, gold passage, wrong passage) per answerable question."""
    docs = {d["id"]: d["text"] for d in read_jsonl(folder / "docs.jsonl")}
    ids = list(docs)
    bm25 = BM25([docs[i] for i in ids])
    questions = [q for q in read_jsonl(folder / "questions.jsonl") if q.get("answerable", True)]
    rng = random.Random(seed)
    rng.shuffle(questions)
    out = []
    for q in questions[:limit]:
        answer, gold = q["answers"][0], q["gold_doc_ids"][0]
        other = rng.choice([x for x in questions if x["gold_doc_ids"][0] != gold])
        ranked = [ids[i] for i, _ in bm25.top(q["question"], 10)] + ids
        wrong_doc = next(i for i in ranked if i != gold)
        stem = q["question"].rstrip(" ?")
        out.append((f"{stem}: {answer}.", f"{stem}: {other['answers'][0]}.",
                    passage_around(docs[gold], answer),
                    passage_around(docs[wrong_doc], q["question"].split()[-1])))
    return out


def score(embedder: Embedder, claim: str, text: str) -> tuple[float, bool]:
    passage = Passage("d", "c", "", "", "", text, 0, len(text), 0.0)
    support, numbers_ok, _ = Supports([passage], embedder).scores(claim)[0]
    return support, numbers_ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.measuring.calibrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval", action="append", type=Path, required=True, metavar="DIR",
                        help="an eval set folder (docs.jsonl, questions.jsonl); repeatable, e.g. "
                             "--eval ../shared/eval/squad2-dev-500 --eval ../shared/eval/covidqa")
    parser.add_argument("--limit", type=int, default=200, help="questions per set")
    args = parser.parse_args(argv)
    embedder = load_embedder()
    good: list[float] = []
    bad: list[float] = []
    for folder in args.eval:
        for claim, wrong_claim, gold, wrong_passage in triples(folder, args.limit):
            for target, (claim_, text) in ((good, (claim, gold)), (bad, (wrong_claim, gold)),
                                           (bad, (claim, wrong_passage))):
                support, numbers_ok = score(embedder, claim_, text)
                target.append(support if numbers_ok else -1.0)
    report(np.array(good), np.array(bad))
    return 0


def report(good: np.ndarray, bad: np.ndarray) -> None:
    print(f"supported claims {len(good)}: median {np.median(good):.3f}; "
          f"unsupported {len(bad)}: median {np.median(bad):.3f}")
    print("| threshold | supported kept | unsupported caught | balanced accuracy |")
    print("|---|---|---|---|")
    best = (0.0, 0.0)
    for t in np.arange(0.30, 0.86, 0.025):
        kept, caught = float(np.mean(good >= t)), float(np.mean(bad < t))
        best = max(best, ((kept + caught) / 2, t))
        print(f"| {t:.3f} | {kept:.1%} | {caught:.1%} | {(kept + caught) / 2:.1%} |")
    print(f"best threshold {best[1]:.3f} (balanced accuracy {best[0]:.1%})")


if __name__ == "__main__":
    from index.exits import run_cli

    raise SystemExit(run_cli(main))
