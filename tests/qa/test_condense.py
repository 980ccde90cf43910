"""Follow-ups become standalone search queries; standalone questions pass unchanged."""

from __future__ import annotations

import pytest

from qa.condense import MAX_BORROWED, is_follow_up, standalone, user_turns

FIRST = "Who was killed at the fake roadblock?"


def test_a_follow_up_borrows_the_previous_questions_content_words() -> None:
    assert standalone("and who was wounded?", [FIRST]) == "who was wounded? (killed fake roadblock)"


def test_a_standalone_question_is_left_alone() -> None:
    assert standalone("What did U.S. officials complain about?", [FIRST]) == (
        "What did U.S. officials complain about?")
    assert standalone("  Who   is Zapata? ", []) == "Who is Zapata?"


def test_follow_ups_chain_through_the_conversation() -> None:
    query = standalone("when?", [FIRST, "and who was wounded?"])
    assert query.startswith("when? (") and "roadblock" in query and "wounded" in query


@pytest.mark.parametrize("question, expected", [
    ("and who was wounded?", True), ("What about Mexican officials?", True),
    ("Where did he work?", True), ("why?", True),
    ("Who was killed at the fake roadblock?", False),
    ("How many people died in drug violence in Mexico?", False),
])
def test_follow_up_detection(question: str, expected: bool) -> None:
    assert is_follow_up(question) is expected


def test_history_in_every_shape_the_surfaces_send() -> None:
    history = [FIRST, {"role": "assistant", "content": "Zapata [1]"},
               {"role": "user", "content": [{"type": "text", "text": "and who was wounded?"}]},
               ["a pair's question", "its answer"], {"role": "user", "content": None}, 42]
    assert user_turns(history) == [FIRST, "and who was wounded?", "a pair's question"]


MEXICO = ["Who was killed at the fake roadblock in Mexico?"]


@pytest.mark.parametrize(("history", "question", "expected"), [
    # real follow-ups: an opener, a pronoun, an ellipsis
    (MEXICO, "and who was wounded?", "who was wounded? (killed fake roadblock Mexico)"),
    (MEXICO, "Where did he work?", "Where did he work? (killed fake roadblock Mexico)"),
    (MEXICO, "why?", "why? (killed fake roadblock Mexico)"),
    (MEXICO, "What about the cartels?", "the cartels? (killed fake roadblock Mexico)"),
    (MEXICO, "How many died?", "How many died? (killed fake roadblock Mexico)"),
    (MEXICO, "Who ordered their deaths?", "Who ordered their deaths? (killed fake roadblock "
                                          "Mexico)"),
    # standalone questions stay as typed
    (MEXICO, "What is the capital of France?", "What is the capital of France?"),
    (MEXICO, "Who is Barack Obama?", "Who is Barack Obama?"),
    (MEXICO, "Is there a vaccine for measles?", "Is there a vaccine for measles?"),
    (MEXICO, "What happened in 2011?", "What happened in 2011?"),
    (MEXICO, "Who was the man that shot the agent in Texas?",
     "Who was the man that shot the agent in Texas?"),
    (MEXICO, "How does photosynthesis work in desert plants?",
     "How does photosynthesis work in desert plants?"),
    ([], "and who was wounded?", "and who was wounded?"),
])
def test_only_real_follow_ups_are_condensed(history: list[str], question: str,
                                            expected: str) -> None:
    assert standalone(question, history) == expected


def test_a_long_conversation_never_makes_a_long_query() -> None:
    """Issue 21: 50 follow-ups of 490 words each were all borrowed into one query (28 s)."""
    turns = ["and " + " ".join(f"word{t}x{i}" for i in range(490)) for t in range(50)]
    query = standalone("and what about it?", turns)
    borrowed = query.split("(", 1)[1]
    assert len(borrowed.split()) == MAX_BORROWED and "word49x0" in borrowed
    assert not any(f"word{t}x" in query for t in range(48))  # only the turns it refers to


def test_borrowings_are_never_borrowed_again() -> None:
    history = [FIRST, "and who was wounded?", "Where is Monterrey?"]
    assert standalone("Who lives there?", history) == "Who lives there? (Monterrey)"


def test_a_run_of_punctuation_is_never_borrowed() -> None:
    assert standalone("and who was wounded?", ["-.'" * 1333 + "a"]) == "who was wounded?"
