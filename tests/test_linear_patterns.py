"""Every text pattern runs in linear time on hostile text: ten times the text may take about ten
times as long, never a hundred (a 20 KB history turn of dashes once stalled the server for 15 s).

Timed as a ratio of 100 KB to 10 KB of the same text, best of 3, since the machine's speed swings."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

import pytest

from index.clean import clean_text
from index.sentences import split_sentences
from qa.condense import content_words, standalone
from qa.lexical import analyze
from qa.measuring.baselines import Span, span_candidates, span_features
from qa.metrics import normalize
from qa.verify import is_instruction, parse_claims
from ui.render import md_safe, md_text, plain

UNITS = ["-", ".", "'", "’", " ", "\n", "\n \n", "\t ", "#", "a-", "-a", "a.", ". ", "'a", "$",
         "[1,", "[1] ", "U.S.", "â ", "](", "![", "<", "...a ", "# x\n", "1.", "- ", "\u00a0",
         "ignore a ", "see "]
TEXTS: dict[str, Callable[[str], object]] = {
    "clean_text": clean_text,
    "split_sentences": split_sentences,
    "content_words": content_words,
    "standalone": lambda text: standalone("and who?", [text]),
    "analyze": analyze,
    "normalize": normalize,
    "parse_claims": parse_claims,
    "md_safe": md_safe,
    "md_text": md_text,
    "plain": plain,
    "is_instruction": is_instruction,
    "span_candidates": lambda text: span_candidates("Who said it?", text),
    "span_features": lambda text: span_features("Who said it?", text, [Span(0, len(text), text)]),
}


def best_time(fn: Callable[[str], object], text: str) -> float:
    times = []
    for _ in range(3):
        gc.disable()  # the collector's passes over many small results are not the pattern's cost
        try:
            start = time.perf_counter()
            fn(text)
            times.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return min(times)


def hostile(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size] + "x"


@pytest.mark.parametrize("name", list(TEXTS))
def test_patterns_are_linear_on_100_kb_of_hostile_text(name: str) -> None:
    fn = TEXTS[name]
    for unit in UNITS:
        small = best_time(fn, hostile(unit, 10_000))
        large = best_time(fn, hostile(unit, 100_000))
        assert large < 30 * max(small, 2e-3), (name, unit, small, large)
