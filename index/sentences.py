"""Split text into sentences as (start, end) spans into that text.

Knows abbreviations ("Dr.", "Jan."), initials ("John D. Feeley"), dotted acronyms ("U.S.") and
numbered abbreviations ("No. 2"). It does not tokenize words or detect languages; blank lines and
markdown headings/list items always end a sentence.
"""

from __future__ import annotations

import re

# A candidate end: terminal punctuation, closing quotes/brackets, then whitespace; or a blank line.
# A run of punctuation is tried once, from its start and without backtracking: tried from every
# dot of "....." the search is quadratic, minutes for a page of dots.
_CANDIDATE = re.compile(
    r"(?<![.!?…])[.!?…]++[\"'”’)\]]*+(?=\s)"  # terminal punctuation before whitespace
    r"|\n[ \t]*\n"  # a blank line
    r"|(?m:^[ \t]*#{1,6}[ \t][^\n]*\n)"  # a whole markdown heading line
    r"|\n(?=[ \t]*(?:#|[-*•][ \t]|\d+[.)][ \t]))"  # a line before a heading or list item
)
_WORD_BEFORE = re.compile(r"([\w.'-]+)[.]$")
_NEXT_WORD = re.compile(r"\s*(\S+)")

# Abbreviations that never end a sentence, lower-cased, without the final dot.
ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt gen gov sen rep lt col capt sgt cmdr adm rev hon pres supt
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun
    e.g i.e cf vs approx ca dept est inc corp ltd co bros al fig figs eq eqs vol vols ed eds
    ph.d m.d b.a m.a""".split()
)
# Abbreviations that don't end a sentence when a number follows ("No. 2", "p. 12").
NUMBERED = frozenset("no nos p pp art sec ch vol fig figs eq op".split())
# Words that usually open a sentence; after "U.S." they mean the acronym did end one.
_OPENERS = frozenset(
    """the a an but and he she it they we i in this that these those there his her its their
    our on at as after when while if however meanwhile still yet so for one two some many most
    according""".split()
)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return the spans of the sentences of `text`, whitespace trimmed, in order."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _CANDIDATE.finditer(text):
        end = match.end()
        if match.group().startswith((".", "…")) and not _ends_sentence(text, match.start(), end):
            continue
        _append_trimmed(text, start, end, spans)
        start = end
    _append_trimmed(text, start, len(text), spans)
    return [part for span in spans for part in _heading_lines(text, span)]


_LINE_END = re.compile(r"\n[ \t]*(?=[A-Z\"“‘'(\d])")
HEADING_LINE_WORDS = 10
# Words a wrapped line may end on mid-sentence; a heading doesn't.
_JOINERS = frozenset("a an the and or but of in on at to for from by with as that which who is are "
                     "was were be been has have had not nor than".split())


def _heading_lines(text: str, span: tuple[int, int]) -> list[tuple[int, int]]:
    """A title line run into the sentence below it ("Library fire\nThe fire was ...") is a
    sentence of its own: a first line of at most HEADING_LINE_WORDS words without terminal
    punctuation, followed by a line that opens like a sentence."""
    start, end = span
    match = _LINE_END.search(text, start, end)
    if match is None:
        return [span]
    line = text[start : match.start()].rstrip()
    words = line.split()
    if (line.endswith((*_TERMINAL, ",")) or len(words) > HEADING_LINE_WORDS
            or not (line[:1].isupper() or line[:1].isdigit()) or words[-1].lower() in _JOINERS):
        return [span]
    return [(start, start + len(line)), *_heading_lines(text, (match.end(), end))]


def _ends_sentence(text: str, dot: int, after: int) -> bool:
    """Decide whether the period(s) at text[dot:after] end a sentence."""
    next_word = _next_word(text, after)
    if not next_word:
        return True
    if next_word[0].islower() or next_word[0] in ",;:":
        return False
    word = _word_before(text, dot + 1)
    lower = word.lower().rstrip(".")
    if lower in ABBREVIATIONS:
        return False
    if lower in NUMBERED and next_word[0].isdigit():
        return False
    if len(word) == 1 and word.isupper():  # an initial: "John D. Feeley"
        return False
    if re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", word):  # "U.S", "a.m": an acronym
        return next_word.lower().strip("\"'“‘") in _OPENERS
    return True


def _word_before(text: str, end: int) -> str:
    match = _WORD_BEFORE.search(text[max(0, end - 40) : end])
    return match.group(1) if match else ""


def _next_word(text: str, pos: int) -> str:
    match = _NEXT_WORD.match(text, pos)
    return match.group(1) if match else ""


def _append_trimmed(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


_TERMINAL = (".", "!", "?", "…", '"', "'", "”", "’", ")", "]", ":", ";")
HEADING_MAX_WORDS = 14


def is_heading(text: str, title: str = "") -> bool:
    """A heading, title or label rather than a sentence: a markdown `#` line, the article's title
    (whatever punctuation ends either), or a short line without terminal punctuation. Kept for
    retrieval, never an answer."""
    text = text.strip()
    if text.startswith("#") or (title and _bare(text) == _bare(title)):
        return True
    return not text.endswith(_TERMINAL) and len(text.split()) <= HEADING_MAX_WORDS


def _bare(text: str) -> str:
    return text.strip().rstrip("".join(_TERMINAL)).strip().casefold()


def after_title(text: str, title: str) -> int:
    """Where the sentence proper starts in `text` when the title is glued to its front (a
    headline run into the first sentence), else 0."""
    head = title.strip()
    if len(head.split()) < 2 or not text.startswith(head):
        return 0
    rest = text[len(head):]
    stripped = rest.lstrip(" \t\n-–—:|")
    return len(text) - len(stripped) if len(stripped.split()) >= 4 else 0
