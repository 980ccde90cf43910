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


# Issue 23: the conversation table. Each row: the earlier questions, the new question, and either
# ALONE (searched exactly as typed) or the words the query must borrow and those it must not.
GLACIER = "Which Antarctic glacier could raise sea levels by several feet if it collapses?"
PROBE = "What did the NASA probe do after landing on the asteroid's surface?"
LAWSUIT = "How much did the chemical maker pay to settle the lawsuit over polluted drinking water?"
STRIKE = "Why did the autoworkers union strike against the three Detroit carmakers?"
FIRE = "Where did the wildfire destroy hundreds of homes last month?"
MASCOT = "Which cartoon mascot did the candy maker drop from its packaging this week?"
ALONE = None

CONVERSATIONS: list[tuple[list[str], str, tuple[set[str], set[str]] | None]] = [
    # stand alone: time phrases ("this week", "this past weekend", "this year's")
    ([GLACIER], MASCOT, ALONE),
    ([GLACIER], "What did Nike announce this week?", ALONE),
    ([GLACIER], "What did the company announce this week?", ALONE),
    ([PROBE], "What new rule did the league adopt this past weekend?", ALONE),
    ([LAWSUIT], "Which city was named the world's most livable this year?", ALONE),
    ([STRIKE], "Who won this year's marathon?", ALONE),
    ([FIRE], "Which fast food chain brought back a menu item this season after fans begged?", ALONE),
    ([PROBE], "What record did the Taylor Swift tour break this weekend?", ALONE),
    ([LAWSUIT], "What did the automaker recall this week, and why?", ALONE),
    ([STRIKE], "Which animal escaped from the city zoo this morning?", ALONE),
    # stand alone: "it", "they", "its", "this" with a subject of their own
    ([PROBE], "Which wildly popular streaming show said it would end after its fifth season?",
     ALONE),
    ([LAWSUIT], "Why are doctors warning parents about the cough syrup they buy online?", ALONE),
    ([STRIKE], "Which endangered bird did conservationists say they spotted for the first time "
               "in decades?", ALONE),
    ([FIRE], "How did the French government respond when it raised the pension age?", ALONE),
    ([GLACIER], "Which country said it would host the 2030 World Cup?", ALONE),
    ([GLACIER], "Is it safe to eat raw cookie dough?", ALONE),
    ([PROBE], "What household item should be replaced every year because it collects bacteria?",
     ALONE),
    ([LAWSUIT], "What do honeybees do when they swarm?", ALONE),
    ([STRIKE], "Why did Apple say they would delay the launch of its headset?", ALONE),
    ([FIRE], "Which bakery chain recalled its cookies because they might contain stones?", ALONE),
    ([STRIKE], "Which team lost its coach?", ALONE),
    ([FIRE], "What airline changed their baggage rules?", ALONE),
    # stand alone: no reference at all
    ([FIRE], "How many eggs does a hen lay in a year?", ALONE),
    ([GLACIER], "What is the tallest building in the world?", ALONE),
    ([PROBE], "Which composer wrote the music for the new space opera film?", ALONE),
    # real follow-ups: "that", a pronoun with no subject of its own, an ellipsis, an opener
    ([PROBE], "When did that happen?", ({"probe", "asteroid's"}, set())),
    ([LAWSUIT], "Who were the two men?", ({"chemical", "lawsuit"}, set())),
    ([STRIKE], "Why did they do it?", ({"autoworkers", "strike"}, set())),
    ([STRIKE], "What did he say?", ({"union", "carmakers"}, set())),
    ([FIRE], "How many died?", ({"wildfire", "homes"}, set())),
    ([FIRE], "and who was wounded?", ({"wildfire"}, set())),
    ([GLACIER], "What about the Arctic?", ({"glacier", "sea"}, set())),
    ([GLACIER], "How fast is it melting?", ({"Antarctic", "glacier"}, set())),
    ([PROBE], "What did it find there?", ({"NASA", "probe"}, set())),
    ([LAWSUIT], "Who represented them in court?", ({"lawsuit", "settle"}, set())),
    ([STRIKE], "How long did they stay off the job?", ({"autoworkers", "union"}, set())),
    ([FIRE], "What caused it?", ({"wildfire"}, set())),
    ([FIRE], "Why did they not evacuate the town sooner?", ({"wildfire"}, set())),
    ([GLACIER], "What are scientists doing to slow it down?", ({"glacier"}, set())),
    ([PROBE], "Where is this asteroid?", ({"probe", "NASA"}, set())),
    ([LAWSUIT], "Did they admit any wrongdoing?", ({"chemical", "maker"}, set())),
    ([STRIKE], "What were these workers demanding?", ({"union", "carmakers"}, set())),
    ([STRIKE], "What happened to it this week?", ({"strike"}, set())),
    ([FIRE], "why?", ({"wildfire", "destroy"}, set())),
    ([FIRE], "Which hospital were they taken to?", ({"wildfire"}, set())),
    ([STRIKE], "Which of their demands were met?", ({"union", "carmakers"}, set())),
    # a follow-up borrows from the turn it refers to, never from the conversation before it
    ([GLACIER, MASCOT], "Why did they drop it?", ({"mascot", "candy"}, {"glacier", "Antarctic"})),
    ([GLACIER, MASCOT, "What did Nike announce this week?"], "How much did it cost?",
     ({"Nike"}, {"mascot", "glacier"})),
    ([FIRE, "How many died?"], "Who were the two men?",
     ({"died", "wildfire"}, set())),
    ([PROBE, "When did that happen?", "Which composer wrote the music for the new space opera "
      "film?"], "What did he say?", ({"composer", "film"}, {"probe", "asteroid's", "NASA"})),
]


@pytest.mark.parametrize(("history", "question", "expected"), CONVERSATIONS)
def test_the_conversation_table(history: list[str], question: str,
                                expected: tuple[set[str], set[str]] | None) -> None:
    query = standalone(question, history)
    if expected is ALONE:
        assert query == question and not is_follow_up(question)
        return
    must, must_not = expected
    assert is_follow_up(question) and query != question
    borrowed = set(query.rsplit("(", 1)[1].rstrip(")").split())
    assert must <= borrowed and not must_not & borrowed, query


def test_the_table_is_the_issues_size() -> None:
    """Issue 23 asks for at least 30 conversation pairs, standalone and follow-ups alike."""
    alone = sum(1 for *_, expected in CONVERSATIONS if expected is ALONE)
    assert len(CONVERSATIONS) >= 30 and alone >= 15 and len(CONVERSATIONS) - alone >= 15
