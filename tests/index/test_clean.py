"""clean_text on the sample articles: mojibake repaired, share buttons gone, the rest kept."""

from __future__ import annotations

import re

import ftfy
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from index.clean import clean_text, repair
from tests.conftest import SAMPLES, slower

FTFY = ftfy.TextFixerConfig(uncurl_quotes=False, fix_character_width=False)
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
    assert clean_text(text) == "Start end\n x"
    prose = "Start " + "word " * (len(text) // 5)  # as long, ordinary words
    assert slower(lambda: clean_text(text), lambda: clean_text(prose)) < 20  # was > 100x


@pytest.mark.parametrize("space", [" ", "\t", "\u00a0", "\u3000", "\u2003", "\u202f", " \u00a0"])
def test_a_long_run_of_any_space_becomes_one_space(space: str) -> None:
    # issue 21, finding 3: 5 MB of spaces (or 1 M U+00A0) between two sentences was one chunk
    text = "One sentence." + space * 300_000 + "Another one."
    assert clean_text(text) == "One sentence. Another one."


def test_short_runs_of_spaces_are_kept() -> None:
    text = "Two  spaces,\tone tab, four\u00a0\u00a0\u00a0\u00a0non-breaking ones."
    assert clean_text(text) == text


def test_lines_of_spaces_are_blank_lines() -> None:
    text = "One.\n" + "\u00a0\u00a0\n \t \n" * 20_000 + "Two."
    assert clean_text(text) == "One.\n\nTwo."


REPAIRS = ["It\u00e2\u20ac\u2122s Calder\u00c3\u00b3n", "caf\u00c3\u00a9 &amp; bar", "&lt;p&gt; < &amp;",
           "\x1b[31mred\x1b[0m", "line\rbreak\u2028sep\x85", "\ufb01ne e\u0301t\u00e9 \x80\x9d",
           "plain ASCII line", "na\u00efve caf\u00e9", "fish &amp; chips", "a < b", "\u65e5\u672c \u2713", "ok \x00\x07 bell", "\u00c3\u00a9", ""]


@settings(max_examples=300, deadline=None)
@example(["fish &amp; chips", "a <p> b \u00e9"], ["\n"] * 12)  # entities unescaped before a "<"
@example(["\u201a\u00c4\u00a2 bullet", "na\u00efve"], ["\n"] * 12)  # Mac Roman mojibake
@given(st.lists(st.sampled_from(REPAIRS), max_size=12), st.lists(st.sampled_from(["\n", "\r\n", " "]),
                                                                 min_size=12, max_size=12))
def test_repair_is_ftfy_line_by_line(parts: list[str], ends: list[str]) -> None:
    """Only the lines ftfy could change go to it, batched where it changes none of them: the
    result is ftfy's, line for line."""
    text = "".join(part + end for part, end in zip(parts, ends, strict=False))
    assert repair(text) == ftfy.fix_text(text, FTFY)


def test_many_short_lines_clean_in_linear_time() -> None:
    # issue 21, finding 10: ftfy's cost is per line; 1 MB of "a\n" took 5.7 s, as long a text
    # of 80-character lines 0.1 s
    lines = "a\n" * 100_000
    accented = "\u00e9\n" * 100_000
    prose = ("word " * 16 + "\n") * (len(lines) // 81)
    # lines ftfy must read are compared with as long a text of long lines it must read too: what
    # is measured is the cost per line, not ftfy's cost per character (8-12x plain ASCII's)
    accented_prose = ("word " * 15 + "caf\u00e9 \n") * (len(lines) // 81)
    assert slower(lambda: clean_text(lines), lambda: clean_text(prose)) < 5  # was 40x
    assert slower(lambda: clean_text(accented), lambda: clean_text(accented_prose)) < 4  # was 40x


def test_a_form_feed_is_a_line_break() -> None:
    # the tokenizer deletes it, so the words around it were one word to it and two to the chunker
    assert clean_text("Page one ends.\fPage two\f\fstarts.") == "Page one ends.\nPage two\n\nstarts."
