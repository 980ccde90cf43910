"""split_sentences: abbreviations, initials and decimals stay inside a sentence; real ends split."""

from __future__ import annotations

import pytest

from index.clean import clean_text
from index.sentences import split_sentences
from tests.conftest import SAMPLES, slower


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text)]


def seed_text() -> str:
    return clean_text((SAMPLES / "001_6af38f333212537e.txt").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "text",
    [
        "A cable from the U.S. Embassy in Mexico City said so.",
        "It was signed by the No. 2 official at the embassy.",
        "It was signed by John D. Feeley, a veteran diplomat.",
        "The cable dated Jan. 29 said the president was failing.",
        "We met Dr. Smith at the clinic.",
        "Some agencies, e.g. this one, do not share intelligence.",
        "Violence rose 2.5 percent in a year.",
    ],
)
def test_abbreviations_initials_and_decimals_do_not_end_a_sentence(text: str) -> None:
    assert sentences(text) == [text]


def test_a_real_period_ends_a_sentence() -> None:
    text = "An agent was killed. Zapata was shot. He died."
    assert sentences(text) == ["An agent was killed.", "Zapata was shot.", "He died."]


def test_an_acronym_followed_by_a_sentence_opener_ends_the_sentence() -> None:
    text = "The drugs reach the U.S. But the cartels stay in Mexico."
    assert sentences(text) == ["The drugs reach the U.S.", "But the cartels stay in Mexico."]


def test_a_closing_quote_after_the_period_stays_with_its_sentence() -> None:
    text = "“It is widespread.” Officials agree."
    assert sentences(text) == ["“It is widespread.”", "Officials agree."]


def test_exclamation_and_question_marks_end_sentences() -> None:
    assert sentences("Stop! Who goes there? Nobody.") == ["Stop!", "Who goes there?", "Nobody."]


def test_a_blank_line_ends_a_sentence_without_punctuation() -> None:
    text = "A title without a period\n\nThe body starts here."
    assert sentences(text) == ["A title without a period", "The body starts here."]


def test_markdown_headings_are_sentences_of_their_own() -> None:
    text = "# Title\nFirst line of the body\n## Section two\nMore text here."
    assert sentences(text) == ["# Title", "First line of the body", "## Section two",
                               "More text here."]


@pytest.mark.parametrize(
    "text",
    [
        "  Leading space. Two  spaces between.   Trailing space.  ",
        "\n\nOne.\n\n\n\nTwo!\t\tThree?\n",
        (SAMPLES / "000_b1f5c98873b2f0c9.txt").read_text(encoding="utf-8"),
        seed_text(),
    ],
    ids=["spaces", "newlines", "sample-000", "sample-001"],
)
def test_spans_are_trimmed_in_order_and_lose_no_text(text: str) -> None:
    spans = split_sentences(text)
    assert spans
    previous_end = 0
    for a, b in spans:
        assert previous_end <= a < b
        assert not text[a].isspace() and not text[b - 1].isspace()
        previous_end = b
    squeezed = "".join("".join(text[a:b].split()) for a, b in spans)
    assert squeezed == "".join(text.split())  # only whitespace falls between sentences


def test_seed_article_keeps_the_feeley_sentence_whole() -> None:
    found = [s for s in sentences(seed_text()) if "John D. Feeley" in s]
    assert len(found) == 1
    assert "No. 2 official" in found[0]
    assert found[0].endswith("extensive experience in Latin America.")


def test_seed_article_sentences_around_dates_and_quotes() -> None:
    found = sentences(seed_text())
    assert any(s.endswith("the cable dated Jan. 29 said.") for s in found)
    assert any(s.startswith("“Official corruption") and s.endswith("he said.") for s in found)
    assert found[0] == "WikiLeaks Cables Reveal Unease Over Mexican Drug War"


@pytest.mark.parametrize("run", [".", "?!", "…"], ids=["dots", "marks", "ellipses"])
def test_a_long_run_of_punctuation_splits_in_linear_time(run: str) -> None:
    # a run with no space after it was searched again from each of its marks: minutes
    text = "Start. " + run * 100_000 + "end"
    assert sentences(text) == ["Start.", run * 100_000 + "end"]
    prose = "Start. " + "Words. " * (len(text) // 7)  # as long, made of ordinary sentences
    assert slower(lambda: sentences(text), lambda: sentences(prose)) < 20  # was > 100x


def test_a_title_line_is_not_glued_to_the_sentence_under_it() -> None:
    text = "Library fire destroys archive\nThe fire was caused by a faulty heater. It spread."
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "Library fire destroys archive", "The fire was caused by a faulty heater.", "It spread."]
    wrapped = "Zapata and\nAvila were shot. The agent was killed\nin Mexico."
    assert [wrapped[a:b] for a, b in split_sentences(wrapped)] == [
        "Zapata and\nAvila were shot.", "The agent was killed\nin Mexico."]
