"""Clean article text before it is stored: repair mojibake, drop share-button boilerplate, and
bound runs of whitespace.

The cleaned text is what the store keeps and what chunk offsets point into, so nothing here needs
an offset map. It does not summarise, reflow paragraphs or change wording. Its cost is linear in
the text, whatever the text: ftfy's cost is per line, so only the lines ftfy could change are
given to it (1 MB of "a\\n" took 5.7 s when every line was).
"""

from __future__ import annotations

import re

import ftfy
from ftfy.badness import is_bad

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

# A run of more than MAX_SPACE_RUN spaces, tabs or other spaces (U+00A0, U+3000, ...) on a line
# becomes one space: 5 MB of spaces between two sentences is not text. No article of the
# evaluation sets has a run this long.
MAX_SPACE_RUN = 4
_LONG_SPACE = re.compile(rf"[^\S\n]{{{MAX_SPACE_RUN + 1},}}")
# Spaces before a line end, matched from the start of a run only: a long run of spaces with no
# line end would otherwise be searched from each of its spaces (quadratic).
_TRAILING_SPACE = re.compile(r"(?<![^\S\n])[^\S\n]++\n")

# What ftfy could change (with the options below): any character but a tab, a line end and
# printable ASCII other than "&". A line of only those is left as it is by every ftfy fixer.
_ODD = r"[^\t\n\x20-\x25\x27-\x7e]"
# Runs of whole lines that each hold such a character: a line is tried from its start only
# (`^`), and each line's scan stops at its end, so the search is linear.
_ODD_LINES = re.compile(rf"(?m:^(?:[^\n]*{_ODD}[^\n]*(?:\n|\Z))+)")
# Lines given to ftfy at once, then (where some line of a batch needs fixing) fewer, then one.
BATCHES = (4096, 64, 1)
_FTFY = ftfy.TextFixerConfig(uncurl_quotes=False, fix_character_width=False, explain=False)
_FTFY_NO_HTML = _FTFY._replace(unescape_html=False)


def clean_text(text: str) -> str:
    """Return `text` repaired and trimmed, paragraphs kept."""
    text = repair(text)
    # a form feed (page break) is a line break: the tokenizer deletes it and would glue the words
    # around it into one, while Python and the chunker see two
    text = text.replace("\f", "\n")
    text = _BROKEN_DASH.sub("—", text)
    text = _BOILERPLATE.sub("", text)
    text = _LONG_SPACE.sub(" ", text)
    text = _TRAILING_SPACE.sub("\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def repair(text: str) -> str:
    """`ftfy.fix_text(text)` (curly quotes and character widths kept), the same text, at a cost
    per character rather than per line: lines of plain ASCII are passed over."""
    first_tag = text.find("<")  # ftfy unescapes HTML entities only in lines before the first "<"
    out: list[str] = []
    pos = 0
    for run in _ODD_LINES.finditer(text):
        out += [text[pos : run.start()], _fix_lines(run.group(), run.start(), first_tag)]
        pos = run.end()
    out.append(text[pos:])
    return "".join(out)


def _fix_lines(run: str, offset: int, first_tag: int) -> str:
    """The lines of `run` as ftfy fixes them one by one (`offset`: where `run` starts)."""
    lines = run.split("\n")
    lines = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    return _fix_batches(lines, offset, first_tag, BATCHES)


def _fix_batches(lines: list[str], offset: int, first_tag: int, sizes: tuple[int, ...]) -> str:
    """Lines in batches of `sizes[0]`: a batch that ftfy leaves as it is needs no call per line;
    a batch with mojibake, entities or control characters is tried in smaller batches, down to
    one line, fixed as ftfy fixes it."""
    out: list[str] = []
    for low in range(0, len(lines), sizes[0]):
        part = lines[low : low + sizes[0]]
        batch = "".join(part)
        if len(sizes) > 1:
            unchanged = "&" not in batch and not is_bad(batch) and (
                ftfy.fix_text_segment(batch, _FTFY) == batch)
            out.append(batch if unchanged else _fix_batches(part, offset, first_tag, sizes[1:]))
        else:  # one line: ftfy unescapes HTML entities only before the first "<"
            html = first_tag < 0 or first_tag >= offset
            out.append(ftfy.fix_text(batch, _FTFY if html else _FTFY_NO_HTML))
        offset += len(batch)
    return "".join(out)
