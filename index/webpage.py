"""Read an HTML page in one pass: its title, dates and author, and its text as paragraphs.

lxml's HTML parser calls a target for each tag and string, so no tree is built: 1.6 MB of
`<p>a</p>` read in 13 s through BeautifulSoup (a tree of 200,000 tags, then 17 searches of it),
and in well under a second here; 20,000 nested `<div>`s are no deeper a problem than one. It does
not clean the text (see `index.clean`) or decide a title when the page has none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass

from lxml import etree

DROP_TAGS = frozenset(("script", "style", "nav", "header", "footer", "aside", "form", "noscript",
                       "iframe", "svg", "template", "button"))
BLOCK_TAGS = frozenset(("p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5",
                        "h6", "li", "ul", "ol", "blockquote", "pre", "table", "tr", "figure",
                        "figcaption", "dl", "dt", "dd", "hr"))
ROOTS = ("article", "main", "body")  # the text is the first <article>'s, else <main>'s, ...
HEADS = ("title", "h1")
_BLANK_LINE = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Page:
    """What `read_page` found: `fields` holds `title` and `h1` (their text), `time` (the first
    `<time datetime>`), and `name=X` / `property=X` for the first `<meta>` of each."""

    fields: Mapping[str, str]
    text: str

    def meta(self, *names: str) -> str:
        """The content of the first of these `<meta>` fields that has one."""
        for name in names:
            value = self.fields.get(f"name={name}") or self.fields.get(f"property={name}")
            if value:
                return value
        return ""


def read_page(html: str) -> Page:
    """The page's fields and the text of its root outside dropped tags (scripts, navigation):
    each block a paragraph, `<br>` a line break, spaces collapsed."""
    reader = _Reader()
    parser = etree.HTMLParser(target=reader, encoding="utf-8")
    with suppress(etree.LxmlError):  # what was read up to an error is kept
        etree.fromstring(html.encode("utf-8", "replace"), parser)
    return Page(reader.fields, reader.text())


class _Reader:
    """An lxml parser target. `parts` holds the page's strings outside dropped tags, with "\\n\\n"
    around blocks; `roots` where the first article, main and body begin and end in it."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.roots: dict[str, list[int]] = {}  # tag -> [first part, end part, depth]
        self.fields: dict[str, str] = {}
        self.heads: dict[str, list[str]] = {}  # the first title and h1: their strings so far
        # the heads open now, with their depth and the depth inside dropped tags they began at
        self.reading: list[tuple[str, int, int]] = []
        self.depth = 0
        self.dropped = 0  # depth inside a dropped tag

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        self._gap()
        self.depth += 1
        self._field(tag, attrib)
        if self.dropped or tag in DROP_TAGS:
            self.dropped += 1
        elif tag == "br":
            self.parts.append("\n")
        else:
            if tag in ROOTS and tag not in self.roots:
                self.roots[tag] = [len(self.parts), -1, self.depth]
            self.parts.append("\n\n" if tag in BLOCK_TAGS else "")
        if tag in HEADS and tag not in self.heads:
            self.heads[tag] = []
            self.reading.append((tag, self.depth, self.dropped))

    def _field(self, tag: str, attrib: Mapping[str, str]) -> None:
        if tag == "meta" and (content := attrib.get("content", "").strip()):
            for kind in ("name", "property"):
                if kind in attrib:
                    self.fields.setdefault(f"{kind}={attrib[kind]}", content)
        elif tag == "time" and "datetime" in attrib:
            self.fields.setdefault("time", attrib["datetime"])

    def end(self, tag: str) -> None:
        self._gap()
        if self.reading and self.reading[-1][1] == self.depth:
            name = self.reading.pop()[0]
            self.fields[name] = " ".join("".join(self.heads[name]).split())
        if self.dropped:
            self.dropped -= 1
        elif tag != "br":
            self.parts.append("\n\n" if tag in BLOCK_TAGS else "")
            if (root := self.roots.get(tag)) and root[1] < 0 and root[2] == self.depth:
                root[1] = len(self.parts)
        self.depth -= 1

    def data(self, text: str) -> None:
        if not self.dropped:
            self.parts.append(text)
        for name, _, dropped in self.reading:  # a <script> or <button> in a title: not its text
            if dropped == self.dropped:
                self.heads[name].append(text)

    def comment(self, text: str) -> None:  # not text, but it parts the strings of a title
        self._gap()

    def _gap(self) -> None:
        for name, _, _ in self.reading:
            self.heads[name].append(" ")

    def close(self) -> None:
        for name, _, _ in self.reading:  # a title never closed: what was read of it
            self.fields[name] = " ".join("".join(self.heads[name]).split())

    def text(self) -> str:
        """The first article's text, else main's, else body's, else the page's."""
        start, end = next(((r[0], r[1]) for t in ROOTS if (r := self.roots.get(t))), (0, -1))
        chosen = self.parts[start : end if end >= 0 else len(self.parts)]
        paragraphs = (" ".join(p.split()) for p in _BLANK_LINE.split("".join(chosen)))
        return "\n\n".join(p for p in paragraphs if p)
