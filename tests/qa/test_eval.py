"""The evaluation harness: metrics worked by hand, and a smoke run of `python -m qa.measuring.eval` on a slice
of ../shared/eval/squad2-dev-500 (the full runs are documented commands, not tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qa.measuring.eval import half
from qa.measuring.eval import main as eval_main
from qa.measuring.metrics import Outcome, best_f1_em, ranking, summarize
from qa.metrics import token_f1
from tests.conftest import SHARED

SQUAD = SHARED / "eval" / "squad2-dev-500"
METRICS = {"recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "answer_f1", "exact_match",
           "answered", "refusal_precision", "refusal_recall", "refusal_f1", "citation_support",
           "latency_p50_ms", "latency_p95_ms", "questions", "answer_recall", "answer_has_gold",
           "answer_recall_retrieved", "answer_has_gold_retrieved", "right"}


def test_token_f1_and_exact_match_follow_squad() -> None:
    assert token_f1("the Denver Broncos", "Denver Broncos") == 1.0
    assert token_f1("Broncos won", "Denver Broncos") == pytest.approx(0.5)  # p=1/2, r=1/2
    assert best_f1_em("The Denver Broncos. [1]", ["Broncos", "Denver Broncos"]) == (1.0, 1.0)
    assert best_f1_em("Carolina", ["Denver Broncos"]) == (0.0, 0.0)


def test_ranking_counts_each_gold_document_once() -> None:
    scores = ranking(["x", "g", "g", "y", "h"], {"g", "h"})
    assert (scores["recall@1"], scores["recall@5"], scores["mrr@10"]) == (0.0, 1.0, 0.5)
    dcg = 1 / 1.584962500721156 + 1 / 2.584962500721156  # ranks 2 and 5
    ideal = 1 + 1 / 1.584962500721156
    assert scores["ndcg@10"] == pytest.approx(dcg / ideal)


def test_summary_of_refusals_and_citations() -> None:
    rank = ranking(["g"], {"g"})
    outcomes = [Outcome(True, False, rank, 1.0, 1.0, 2, 1, 0.1),
                Outcome(True, True, rank, 0.0, 0.0, 0, 0, 0.2),
                Outcome(False, True, rank, 0.0, 0.0, 0, 0, 0.3),
                Outcome(False, False, rank, 0.0, 0.0, 1, 0, 0.4)]
    s = summarize(outcomes)
    assert (s["answer_f1"], s["answered"], s["citation_support"]) == (0.5, 0.5, 0.5)
    assert s["right"] == 0.0  # answered, but its answer_recall (0.0 here) is under 0.5
    right = Outcome(True, False, rank, 1.0, 1.0, 1, 1, 0.1, recall=0.5)
    assert summarize([right, outcomes[1]])["right"] == 0.5
    assert (s["refusal_precision"], s["refusal_recall"], s["refusal_f1"]) == (0.5, 0.5, 0.5)
    assert s["latency_p50_ms"] == pytest.approx(250.0) and set(s) == METRICS
    assert summarize(outcomes[:2])["refusal_f1"] is None  # nothing to refuse


def slice_of_squad(folder: Path, answerable: int, unanswerable: int, distractors: int) -> None:
    questions = [json.loads(line) for line in (SQUAD / "questions.jsonl").open()]
    chosen = ([q for q in questions if q["answerable"]][:answerable] +
              [q for q in questions if not q["answerable"]][:unanswerable])
    gold = {d for q in chosen for d in q["gold_doc_ids"]}
    docs = [json.loads(line) for line in (SQUAD / "docs.jsonl").open()]
    kept = [d for d in docs if d["id"] in gold] + [d for d in docs if d["id"] not in gold][
        :distractors]
    (folder / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in chosen))
    (folder / "docs.jsonl").write_text("".join(json.dumps(d) + "\n" for d in kept))


@pytest.mark.slow
def test_eval_smoke_run_prints_the_three_pipelines(tmp_path: Path, use_model: None,
                                                   capsys: Any) -> None:
    slice_of_squad(tmp_path, answerable=6, unanswerable=4, distractors=20)
    code = eval_main(["--docs", str(tmp_path / "docs.jsonl"), "--questions",
                      str(tmp_path / "questions.jsonl"), "--k", "5", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    results = json.loads(out.out)
    assert set(results) == {"ours", "bm25", "naive"}
    for scores in results.values():
        assert set(scores) == METRICS and scores["questions"] == 10
        assert all(0 <= scores[m] <= 1 for m in METRICS - {"latency_p50_ms", "latency_p95_ms",
                                                            "questions"})
    assert results["ours"]["recall@5"] >= 0.8 and "indexed: " in out.err


def test_halves_split_a_set_by_id_for_good() -> None:
    ids = [f"q{i}" for i in range(400)]
    assert {half(i) for i in ids} == {0, 1} and 150 < sum(half(i) for i in ids) < 250
    assert half("20231117_6") == half("20231117_6")


def test_eval_names_bad_arguments(tmp_path: Path, capsys: Any) -> None:
    with pytest.raises(SystemExit):
        eval_main(["--docs", str(tmp_path / "missing.jsonl"), "--questions", "x"])
    assert "missing.jsonl is not a file" in capsys.readouterr().err


def test_answer_recall_and_has_gold() -> None:
    from qa.measuring.metrics import answer_recall, has_gold

    assert answer_recall("It was the RNA interference system [1]", ["RNA interference pathway"]) \
        == pytest.approx(2 / 3)
    assert has_gold("It was the RNA interference pathway. [1]", ["RNA interference pathway"]) == 1.0
    assert has_gold("Brnaa interference", ["RNA interference"]) == 0.0


def test_drop_gold_marks_the_sampled_questions_unanswerable(tmp_path: Path) -> None:
    from qa.measuring.eval import Question, drop_gold

    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(json.dumps({"id": f"d{i}", "text": "x"}) + "\n" for i in range(4)))
    questions = [Question(f"q{i}", "?", ("a",), frozenset({f"d{i % 3}"}), True) for i in range(4)]
    questions.append(Question("u", "?", (), frozenset(), False))
    out = tmp_path / "kept.jsonl"
    result = drop_gold(docs, questions, 0.5, 1, out)
    kept_ids = {json.loads(x)["id"] for x in out.read_text().splitlines()}
    assert "u" not in {q.id for q in result}
    for q in result:  # an unanswerable one's gold is gone; an answerable one's gold is kept
        assert bool(q.gold_doc_ids & kept_ids) is q.answerable
    assert "d3" in kept_ids  # no question's gold: kept
