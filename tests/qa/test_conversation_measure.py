"""`python -m qa.measuring.conversation` on the sample articles: standalone questions asked in one
long conversation get the answers they get on fresh pages (issue 23)."""

from __future__ import annotations

import json
from pathlib import Path

from qa.measuring.conversation import measure, read_questions, report
from qa.service import Service

QUESTIONS = [
    "Which two states face the threat of criminal anarchy?",
    "What do drug trafficking organizations do when they kidnap children?",
    "Which cities did the weekend surge of violence hit this week?",
    "Who leaked military intelligence to Los Zetas, according to the cable?",
    "How many people were killed in drug violence in Mexico over the weekend?",
]


def test_standalone_questions_keep_their_answers_in_a_long_conversation(
        sample_service: Service) -> None:
    outcome = measure(sample_service, QUESTIONS)
    assert (outcome.asked, outcome.same, outcome.rewritten, outcome.changed) == (5, 5, 0, [])
    assert report(outcome).splitlines() == [
        "questions: 5", "same answer text on a fresh page and in the conversation: 5 of 5",
        "queries rewritten in the conversation: 0 of 5"]


def test_a_follow_up_is_counted_as_rewritten(sample_service: Service) -> None:
    outcome = measure(sample_service, QUESTIONS[:1] + ["and why?"])
    assert outcome.rewritten == 1 and outcome.asked == 2


def test_the_questions_file_is_the_eval_format(tmp_path: Path) -> None:
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps({"id": str(i), "question": q, "answers": []}) + "\n"
                            for i, q in enumerate(QUESTIONS)) + "\n")
    assert read_questions(path) == QUESTIONS and read_questions(path, 2) == QUESTIONS[:2]
