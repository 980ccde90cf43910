"""Whether a span of a sentence can be the short answer to a question.

A short answer is never made only of the question's own words, nor names whom the question
names ("What did Calderon tell Obama?" is not answered by "President Felipe Calderon"), and where
the question asks for a number (how many, what percentage, ...: `qa.answer_types`) and the
sentence holds one the question lacks, it holds that number. The span model's best span is taken
if it fits, else its first runner-up that does (`choose`), else none.

Measured (issue 22) on the reader's best sentence, short-answer F1: squad2 answerable questions
0.591 with the span model's best span alone, 0.594 with these rules; news-dev-2023 half 0, 0.273
and 0.296. Asking who for a name, when for a date and where for a place as well cost 0.594 ->
0.556 on squad2 and 0.296 -> 0.267 on news: the types read from surface forms (capitals, month
names) are too coarse to veto the span model there.

    fits("Who supplied the weapons?", sentence, start, end)
"""

from __future__ import annotations

import re

from qa.answer_types import new_spans, question_type
from qa.lexical import STOPWORDS, analyze

_WORD = re.compile(r"\w+")


def fits(question: str, sentence: str, start: int, end: int) -> bool:
    """Whether `sentence[start:end]` may answer `question` (see the module)."""
    text = sentence[start:end]
    plain = {w.lower() for w in _WORD.findall(question)}
    own = {w.lower() for w in _WORD.findall(text)} - STOPWORDS
    if not own or own <= plain or not set(analyze(text)) - set(analyze(question)):
        return False
    if own & named(question):  # "President Felipe Calderon" is who the question is about
        return False
    if question_type(question) != "number":
        return True
    numbers = new_spans(sentence, "number", plain)  # "how many": a number, where there is one
    return not numbers or any(a < end and start < b for a, b in numbers)


def named(question: str) -> set[str]:
    """The question's capitalised words after its first: the names it asks about."""
    return {w.lower() for w in _WORD.findall(question)[1:] if w[:1].isupper()} - STOPWORDS


def choose(question: str, sentence: str, spans: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The first of `spans` (best first) that fits, if any."""
    return next(((a, b) for a, b in spans if b > a and fits(question, sentence, a, b)), None)
