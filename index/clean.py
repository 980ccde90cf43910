"""Clean article text before it is stored: repair mojibake, drop share-button boilerplate.

The cleaned text is what the store keeps and what chunk offsets point into, so nothing here needs
an offset map. It does not summarise, reflow paragraphs or change wording.
"""

from __future__ import annotations

import re

import ftfy

# Lines that are social-media furniture, not article text.
_BOILERPLATE = re.compile(
    r"^[ \t]*(?:"
    r"share (?:this|it|on|via|with)\b[^\n]{0,60}"
    r"|enjoy (?:reading|this)\?[^\n]{0,60}"
    r"|(?:tweet|pin|email|print) (?:this|it)(?: article| story| page)?[!.]?"
    r"|(?:like|follow) us on [^\n]{0,40}"
    r"|click here to (?:share|subscribe|tweet)[^\n]{0,40}"
    r")[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
# What remains of an em/en dash whose last two UTF-8 bytes were lost: a lone "â" between spaces.
_BROKEN_DASH = re.compile(r"(?<=\s)â(?:\x80[\x93\x94]?)?(?=\s)")

# Spaces before a line end, matched from the start of a run only: a long run of spaces with no
# line end would otherwise be searched from each of its spaces (quadratic).
_TRAILING_SPACE = re.compile(r"(?<![ \t])[ \t]++\n")


def clean_text(text: str) -> str:
    """Return `text` repaired and trimmed, paragraphs kept."""
    text = ftfy.fix_text(text, uncurl_quotes=False, fix_character_width=False)
    # a form feed (page break) is a line break: the tokenizer deletes it and would glue the words
    # around it into one, while Python and the chunker see two
    text = text.replace("\f", "\n")
    text = _BROKEN_DASH.sub("—", text)
    text = _BOILERPLATE.sub("", text)
    text = _TRAILING_SPACE.sub("\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()
