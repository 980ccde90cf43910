"""What the reader reads, the same in answering and in training: which sentences of a passage
are candidates (`candidate_sentences`), and which words before a sentence the span model reads
with it (`context_before`), both by offset into the passage's text.

    for s in candidate_sentences(passage.text, passage.title):
        sentence = passage.text[s.start:s.end]
        context = context_before(passage.text, s.start, 24)
"""

from __future__ import annotations

from typing import NamedTuple

from index.sentences import after_title, is_heading, split_sentences

MIN_WORDS = 4  # shorter "sentences" (headings, bylines) never answer


class SentenceSpan(NamedTuple):
    """A candidate sentence: `text[start:end]` of its passage's text, the `position`th of the
    passage's sentences (headings and short lines counted)."""

    start: int
    end: int
    position: int


class InPassage(NamedTuple):
    """A sentence where it stands: `passage[start:end]`, the words before it in `passage`."""

    passage: str
    start: int
    end: int

    @property
    def sentence(self) -> str:
        return self.passage[self.start:self.end]


def candidate_sentences(text: str, title: str = "") -> list[SentenceSpan]:
    """The sentences of `text` that may answer: headings and the title left out (a title glued
    to the front of a sentence is cut off it), and lines of fewer than MIN_WORDS words."""
    found = []
    for position, (a, b) in enumerate(split_sentences(text)):
        a += after_title(text[a:b], title)
        sentence = text[a:b]
        if len(sentence.split()) >= MIN_WORDS and not is_heading(sentence, title):
            found.append(SentenceSpan(a, b, position))
    return found


def context_before(text: str, start: int, words: int) -> str:
    """The last `words` words of `text` before offset `start` (the sentence's own passage)."""
    return " ".join(text[:start].split()[-words:]) if words > 0 else ""
