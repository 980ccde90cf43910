"""clean_text on the sample articles: mojibake repaired, share buttons gone, the rest kept."""

from __future__ import annotations

import re

import pytest

from index.clean import clean_text
from tests.conftest import SAMPLES, slower

NAMES = ["000_b1f5c98873b2f0c9.txt", "001_6af38f333212537e.txt"]


def raw(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", NAMES)
def test_no_mojibake_remains(name: str) -> None:
    assert "â" in raw(NAMES[0])  # the sample really has a broken dash
    assert "â" not in clean_text(raw(name))


def test_the_broken_dash_becomes_an_em_dash() -> None:
    assert "institutions — and this concern" in clean_text(raw(NAMES[0]))


def test_accents_survive() -> None:
    assert "Calderón" in clean_text(raw(NAMES[0]))


def test_double_encoded_text_is_repaired() -> None:
    assert clean_text("It\u00e2\u20ac\u2122s Calder\u00c3\u00b3n") == "It’s Calderón"


def test_share_buttons_are_dropped() -> None:
    text = clean_text(raw(NAMES[1]))
    assert "Share this!" not in text
    assert "Enjoy reading? Share it with your friends!" not in text
    assert text.endswith("Cross-posted from American Power.")


def test_curly_quotes_are_kept() -> None:
    text = clean_text(raw(NAMES[1]))
    assert "“risk averse”" in text and "government’s" in text and "‘clean’" in text


def test_article_text_is_otherwise_intact() -> None:
    assert clean_text(raw(NAMES[0])) == raw(NAMES[0]).replace(" â ", " — ").strip()
    boilerplate = ("Share this!", "Enjoy reading? Share it with your friends!")
    expected = raw(NAMES[1])
    for line in boilerplate:
        expected = expected.replace(line, "")
    assert clean_text(raw(NAMES[1])) == re.sub(r"\n{3,}", "\n\n", expected).strip()


def test_paragraphs_are_kept_and_trailing_space_dropped() -> None:
    text = "Para one.  \r\n\r\n\r\n\r\nShare this!\r\nPara two.\t\n"
    assert clean_text(text) == "Para one.\n\nPara two."


@pytest.mark.parametrize(
    "text",
    [raw(NAMES[0]), raw(NAMES[1]), "It\u00e2\u20ac\u2122s fine â and more.\n\n\n\nShare this!\n",
     "  Enjoy reading? Share it!\n\nText  \n\n\n"],
    ids=["sample-000", "sample-001", "mojibake", "boilerplate"],
)
def test_clean_is_idempotent(text: str) -> None:
    once = clean_text(text)
    assert clean_text(once) == once


def test_a_long_run_of_spaces_cleans_in_linear_time() -> None:
    text = "Start" + " " * 200_000 + "end\n" + "\t" * 200_000 + "x"  # was searched per space
    assert clean_text(text) == "Start" + " " * 200_000 + "end\n" + "\t" * 200_000 + "x"
    prose = "Start " + "word " * (len(text) // 5)  # as long, ordinary words
    assert slower(lambda: clean_text(text), lambda: clean_text(prose)) < 20  # was > 100x


def test_a_form_feed_is_a_line_break() -> None:
    # the tokenizer deletes it, so the words around it were one word to it and two to the chunker
    assert clean_text("Page one ends.\fPage two\f\fstarts.") == "Page one ends.\nPage two\n\nstarts."
