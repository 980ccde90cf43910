"""HTML and Markdown for the chat: the sources panel and the "searched for" line.

Article text is untrusted, so every piece of it is escaped here; only our own tags reach the page.
The chat is Markdown (GitHub's flavour, which makes links of bare URLs, `www.` names and e-mail
addresses): text there is escaped for Markdown (`md_safe`, `md_text`), and HTML placed in it gets
article text as one line of character references (`plain`). The sources panel and the notice are
HTML, not Markdown.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from qa.types import Answer, Checked, Citation, Passage

EMPTY = '<p class="qa-empty">Sources of the answer appear here.</p>'
_BREAKS = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")  # line breaks, tabs, control characters
# what HTML or Markdown reads as syntax (tags, entities, links, images, autolinks: `:` `@` `.`,
# emphasis, code, headings, tables, maths, templates), written as character references
_REFERENCES = {**{ord(c): f"&#{ord(c)};" for c in "`[]()!*_~#|\\:@.{}$"},
               **{ord(c): html.escape(c) for c in "&<>\"'"}}
_WEB = re.compile(r"https?://[^\s\x00-\x1f\x7f\"'<>\\^`{|}]+", re.IGNORECASE)
# a link definition (`]:`) and what GitHub's Markdown makes a link of: `http://`, `www.`, e-mail
_LINKING = re.compile(r"(?<=\]):|:(?=//)|(?<=www)\.|@", re.IGNORECASE)


def sources_html(answer: Answer) -> str:
    """Cited passages first, each cited sentence highlighted; the rest collapsed below."""
    first_marker: dict[str, int] = {}
    for c in sorted(answer.citations, key=lambda c: c.n):
        first_marker.setdefault(c.chunk_id, c.n)
    cited = sorted((p for p in answer.passages if p.chunk_id in first_marker),
                   key=lambda p: first_marker[p.chunk_id])  # [1] first, then [2], ...
    cited_ids = set(first_marker)
    rest = [p for p in answer.passages if p.chunk_id not in cited_ids]
    parts = ['<div class="qa-sources">']
    if cited:
        parts.append(f"<h3>Cited ({len(cited)})</h3>")
        parts += [_card(p, [c for c in answer.citations if c.chunk_id == p.chunk_id])
                  for p in cited]
    elif not answer.answerable:
        parts.append("<p>No passage answers this question; the nearest ones are below.</p>")
    if rest:
        label = "Also retrieved, not cited" if cited else "Nearest passages"
        parts.append(f'<details class="qa-uncited"><summary>{label} ({len(rest)})</summary>')
        parts += [_card(p, []) for p in rest]
        parts.append("</details>")
    parts.append("</div>")
    return "\n".join(parts)


def _card(passage: Passage, citations: Sequence[Citation]) -> str:
    markers = "".join(f'<span class="qa-marker">[{c.n}]</span>' for c in citations)
    date = f' · <span class="qa-date">{html.escape(passage.date)}</span>' if passage.date else ""
    return (f'<div class="qa-passage" data-chunk="{html.escape(passage.chunk_id)}">'
            f'<div class="qa-head">{markers}<strong class="qa-title">'
            f"{html.escape(passage.title or passage.doc_id)}</strong>{date}</div>"
            f'<div class="qa-source">{source_link(passage.source)}</div>'
            f'<p class="qa-text">{highlight(passage, citations)}</p></div>')


def highlight(passage: Passage, citations: Sequence[Citation]) -> str:
    """The passage text, escaped, with each cited span inside <mark>."""
    spans = sorted((c.start - passage.start, c.end - passage.start) for c in citations)
    out, pos = [], 0
    for a, b in spans:
        a, b = max(a, pos), min(b, len(passage.text))
        if a >= b:
            continue
        out += [html.escape(passage.text[pos:a]), "<mark>", html.escape(passage.text[a:b]),
                "</mark>"]
        pos = b
    out.append(html.escape(passage.text[pos:]))
    return "".join(out)


def source_link(source: str) -> str:
    """A link for a web source (an http(s) URL with no space, quote or bracket in it); the file or
    upload name for the others. Either is one line of `plain` text, so it is safe in the chat."""
    if _WEB.fullmatch(source):
        url = plain(source)
        return f'<a href="{url}" target="_blank" rel="noopener noreferrer">{url}</a>'
    name = source.removeprefix("upload:").replace("\\", "/").rsplit("/", 1)[-1]
    return f'<span title="{plain(source)}">{plain(name)}</span>'


def plain(text: str) -> str:
    """Untrusted text for HTML that stands in the chat's Markdown, as text only: one line (line
    breaks and control characters become spaces, so no blank line ends the HTML block and lets
    Markdown read the rest), with every character that HTML or Markdown reads as syntax written
    as a character reference (no tag, link, image or autolink can form)."""
    return _BREAKS.sub(" ", text).translate(_REFERENCES)


def chat_text(answer: Answer) -> str:
    """The answer for the chat (Markdown): sentences no cited passage supports are marked
    unverified (an instruction copied from an article, as such), unless the answer is a refusal
    (not answerable, reason "not_found": the reader's or the model's own); neither article text
    nor what a model writes can become HTML, links, autolinks or images (see `md_safe`)."""
    refused = not answer.answerable and answer.reason == "not_found"
    if all(s.supported for s in answer.sentences) or refused:
        return bold_short(md_safe(answer.answer), answer.short)
    return " ".join(md_safe(s.text) + "".join(f" [{n}]" for n in s.citations) + _mark(s)
                    for s in answer.sentences)


def _mark(sentence: Checked) -> str:
    if sentence.supported:
        return ""
    if sentence.reason == "instruction":
        return " ⚠️ *(an instruction, not an answer: unverified)*"
    return " ⚠️ *(unverified)*"


def bold_short(text: str, short: str | None) -> str:
    """The short answer (a name, date, number, ...) in bold where it first stands in the text."""
    span = md_safe(short.strip()) if short else ""
    at = text.find(span) if span else -1
    if at < 0:
        return text
    return f"{text[:at]}**{span}**{text[at + len(span):]}"


def inline_citations(answer: Answer) -> str:
    """The citations as expandable lines for under the answer (the embed's narrow frame has no
    room for a sources panel beside it): one HTML block on one line, every piece of article text
    `plain`, so that Markdown reads none of it."""
    if not answer.citations:
        return ""
    items = "".join(
        f'<details class="qa-cite"><summary>[{c.n}] {plain(c.title or c.doc_id)}'
        f'</summary><q>{plain(c.quote)}</q> <span class="qa-source">'
        f"{source_link(c.source)}</span></details>" for c in sorted(answer.citations,
                                                                     key=lambda c: c.n))
    return f'<div class="qa-cites">{items}</div>'


def md_safe(text: str) -> str:
    """Untrusted text for the chat's Markdown: tags, code, links, images, link definitions and
    autolinks (`http://`, `www.`, e-mail addresses) are escaped; everything else is left as
    written, so copying an answer gives nearly its plain text."""
    text = text.replace("\\", "\\\\").replace("<", "\\<").replace(">", "\\>")
    text = text.replace("`", "\\`").replace("](", "]\\(").replace("![", "!\\[")
    return _LINKING.sub(lambda m: "\\" + m.group(), text)


def searched_for(answer: Answer) -> str:
    """How a follow-up was searched, and which model wrote a generated answer with checked
    citations (a refusal shows none, whichever backend); empty otherwise."""
    parts = []
    if answer.query and answer.query != answer.question:
        parts.append(f"searched for: *{md_text(answer.query)}*")
    if answer.generator.backend != "extractive" and answer.answerable and any(
            s.supported and s.citations for s in answer.sentences):  # never under a refusal
        parts.append(f"written by {md_text(answer.generator.model)}, citations checked")
    return " · ".join(parts)


def md_text(text: str) -> str:
    """Untrusted text shown as itself in Markdown: every Markdown character is escaped."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()<>#+-.!|:@~$" else ch for ch in text)
