"""What kind of answer a question asks for, and where a sentence holds one.

`question_type` reads the wh-words ("who" asks for a name, "when" for a date, "how many" for a
number, ...); `type_spans` finds the names, dates, numbers, quantities and places in a sentence by
their surface form (capitals, digits, month names, units). Plain regular expressions: no tagger.

    question_type("How many cubs were born?")  -> "number"
    type_spans("Two cubs, Ada and Bo, were born in May 2021.", "number") -> [(0, 3)]
"""

from __future__ import annotations

import re

from qa.lexical import STOPWORDS

TYPES = ("name", "date", "place", "number", "none")
NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety "
    "hundred hundreds thousand thousands million millions billion billions trillion dozen dozens "
    "half quarter once twice first second third fourth fifth"
)
MONTHS = ("january february march april may june july august september october november "
          "december jan feb mar apr jun jul aug sep sept oct nov dec")
_NUM = rf"(?:[$€£¥]\s?)?\d[\d,.]*(?:\s?%)?|\b(?:{NUMBER_WORDS.replace(' ', '|')})\b"
_NUMBER = re.compile(
    rf"(?:{_NUM})(?:[\s-]+(?:{_NUM}))*"
    r"(?:[\s-]+(?:percent|per cent|million|billion|thousand|hundred|years?|months?|weeks?|days?"
    r"|hours?|minutes?|seconds?|km|kilometres?|kilometers?|miles?|metres?|meters?|feet|foot"
    r"|inches|pounds?|kg|tons?|tonnes?|dollars?|euros?|people|times|%)\b)?",
    re.IGNORECASE)
_DATE = re.compile(
    rf"\b(?:(?:early|late|mid)[\s-]+)?(?:\d{{1,2}}\s+)?(?:{MONTHS.replace(' ', '|')})\.?"
    r"(?:\s+\d{1,2}(?:st|nd|rd|th)?,?)?(?:\s+\d{3,4})?\b"
    r"|\b(?:1[0-9]{3}|20[0-9]{2})s?\b(?:\s*[-–]\s*\d{2,4})?"
    r"|\b\d{1,2}(?:st|nd|rd|th)\s+century\b"
    r"|\b(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth"
    r"|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth"
    r"|twenty-first)\s+century\b",
    re.IGNORECASE)
# A run of capitalised words, allowing "of", "the", "de", "van" and similar inside it.
_NAME = re.compile(
    r"\b[A-Z][\w'’.-]*(?:\s+(?:(?:of|the|de|da|del|la|le|van|von|al|bin|and|for|du)\s+)*"
    r"[A-Z][\w'’.-]*)*")
_PLACE_CUE = re.compile(r"\b(?:in|at|from|near|to|into|across|of|on)\s+(?:the\s+)?$")

_WHO = re.compile(r"\b(?:who|whom|whose)\b|\b(?:what|which) (?:\w+ )?(?:name|person|people|company|"
                  r"group|team|organi[sz]ation|band|author|president|king|queen)\b", re.I)
_WHEN = re.compile(r"\bwhen\b|\bwhat (?:year|date|day|month|decade|century|time|period|era)\b"
                   r"|\bwhich (?:year|date|day|month|decade|century)\b|\bin what year\b", re.I)
_WHERE = re.compile(r"\bwhere\b|\b(?:what|which) (?:\w+ ){0,2}(?:city|country|state|place|region|"
                    r"town|location|continent|island|river|county|province|nation)\b", re.I)
_HOW_MANY = re.compile(r"\bhow (?:many|much|long|old|far|big|large|tall|high|often|fast|heavy)\b"
                       r"|\b(?:what|which) (?:\w+ ){0,2}(?:percentage|percent|number|amount|"
                       r"size|age|proportion|population|rate|cost|price|temperature|magnitude"
                       r"|score)\b",
                       re.I)


def question_type(question: str) -> str:
    """The kind of answer asked for: name, date, place, number, or none (what/which/why/how)."""
    for pattern, kind in ((_HOW_MANY, "number"), (_WHEN, "date"), (_WHO, "name"),
                          (_WHERE, "place")):
        if pattern.search(question):
            return kind
    return "none"


_COMMON_OPENERS = STOPWORDS | frozenset(
    """however according after although since during while when despite because many most some
    several one two three four five first last both each every another other others today
    yesterday earlier later now then here there thus meanwhile also still yet instead overall
    unlike like following under over in at on""".split())


def type_spans(sentence: str, kind: str) -> list[tuple[int, int]]:
    """Spans of `sentence` that are answers of `kind` by their form (none for "none")."""
    if kind == "number":
        return [m.span() for m in _NUMBER.finditer(sentence)]
    if kind == "date":
        return [m.span() for m in _DATE.finditer(sentence)]
    if kind == "name":
        return [s for s in _names(sentence) if not _DATE.fullmatch(sentence[s[0]:s[1]])]
    if kind == "place":
        return [s for s in _names(sentence) if _PLACE_CUE.search(sentence[max(0, s[0] - 12):s[0]])]
    return []


def _names(sentence: str) -> list[tuple[int, int]]:
    """Capitalised runs, except a single common word opening the sentence ("The", "However")."""
    spans = []
    for m in _NAME.finditer(sentence):
        text = m.group().rstrip(".")
        if m.start() == 0 and " " not in text and text.lower() in _COMMON_OPENERS:
            continue
        spans.append((m.start(), m.start() + len(text)))
    return spans


def new_spans(sentence: str, kind: str, question_words: set[str]) -> list[tuple[int, int]]:
    """`type_spans` whose words are not all in the question (the question's own names don't
    answer it)."""
    found = []
    for a, b in type_spans(sentence, kind):
        words = {w.lower() for w in re.findall(r"\w+", sentence[a:b])}
        if words and not words <= question_words:
            found.append((a, b))
    return found
