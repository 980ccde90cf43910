"""Read article files (.txt, .md, .html/.htm, .jsonl) into cleaned `Article`s.

Problems become `LoadError`s that name the file (and line) and the reason; nothing here raises for
bad input, so one bad file never stops a batch. Archives are rejected, never unpacked. It does not
chunk, embed or store.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup
from bs4.element import CData, NavigableString, PageElement, Tag

from index.clean import clean_text
from index.sentences import split_sentences
from index.types import Article, LoadError

SUFFIXES = (".txt", ".md", ".html", ".htm", ".jsonl")
_DROP_TAGS = ("script", "style", "nav", "header", "footer", "aside", "form", "noscript", "iframe",
              "svg", "template", "button")
_BLOCK_TAGS = ("p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li",
               "ul", "ol", "blockquote", "pre", "table", "tr", "figure", "figcaption", "dl", "dt",
               "dd", "hr")
ISO_DATE = r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?"  # YYYY[-MM[-DD]]: the one date form we read
_DATE = re.compile(rf"^{ISO_DATE}(?:[T ].*)?$")  # as stored or given: a time may follow
_DATE_ONLY = re.compile(rf"^{ISO_DATE}$")
_SURROGATE = re.compile("[\ud800-\udfff]")
ARCHIVE_SUFFIXES = (".zip", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".7z", ".rar", ".zst")
# Archives by their first bytes: zip, gzip, xz, 7z, rar, zstd, bzip2, and tar at offset 257.
_ARCHIVE_MAGIC = re.compile(
    rb"\A(?:PK\x03\x04|PK\x05\x06|\x1f\x8b|\xfd7zXZ\x00|7z\xbc\xaf\x27\x1c|Rar!\x1a\x07"
    rb"|\x28\xb5\x2f\xfd|BZh[1-9]1AY&SY|.{257}ustar(?:\x00|  \x00))", re.DOTALL)

Loaded = tuple[list[Article], list[LoadError]]


def expand_paths(paths: list[str]) -> tuple[list[Path], list[LoadError]]:
    """Files named directly or found (recursively, sorted) in folders; missing paths are errors."""
    files: list[Path] = []
    errors: list[LoadError] = []
    for raw in paths:
        path = Path(raw)
        try:
            if path.is_dir():
                files += sorted(p for p in path.rglob("*") if _is_article_file(p, path))
            elif path.is_file():
                files.append(path)
            else:
                errors.append(LoadError(raw, "no such file or folder"))
        except OSError as exc:  # a name too long for the file system, a folder we may not list
            errors.append(LoadError(raw, f"cannot be read ({exc.strerror or exc})"))
    return files, errors


def _is_article_file(path: Path, root: Path) -> bool:
    hidden = any(part.startswith(".") for part in path.relative_to(root).parts)
    return path.is_file() and not hidden and path.suffix.lower() in SUFFIXES


@dataclass(frozen=True)
class Origin:
    """Where an article came from: its id, the source shown with citations, a name for titles."""

    doc_id: str
    source: str
    stem: str
    suffix: str


def file_origin(path: Path) -> Origin:
    stem = _no_surrogates(path.stem)  # a file name that isn't UTF-8 holds lone surrogates
    return Origin(file_doc_id(path), _no_surrogates(str(path.resolve())), stem,
                  path.suffix.lower())


def upload_origin(name: str) -> Origin:
    """An uploaded file: only the last part of its name is kept, and never used as a path."""
    base = _no_surrogates(re.split(r"[\\/]", name)[-1].strip()) or "upload"
    stem, dot, suffix = base.rpartition(".")
    stem, suffix = (stem, f".{suffix.lower()}") if dot and stem else (base, "")
    digest = hashlib.sha1(base.encode()).hexdigest()[:8]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.")[:60] or "article"
    return Origin(f"upload-{slug}-{digest}", f"upload:{base}", stem, suffix)


def load_file(path: Path) -> Loaded:
    """Read one file into articles; a file of another type or unreadable bytes is an error."""
    if path.suffix.lower() not in SUFFIXES:
        return parse_bytes(b"", file_origin(path))
    raw, error = read_bytes(path)
    if error:
        return [], [LoadError(str(path), error)]
    return parse_bytes(raw, file_origin(path))


def load_upload(name: str, raw: bytes) -> Loaded:
    """Read an uploaded file's bytes into articles, like `load_file` reads a file."""
    return parse_bytes(raw, upload_origin(name))


def parse_bytes(raw: bytes, origin: Origin) -> Loaded:
    """Articles from the bytes of a file of `origin.suffix`, or the reason there are none."""
    where = origin.source
    if origin.suffix in ARCHIVE_SUFFIXES or _ARCHIVE_MAGIC.match(raw[:512]):
        return [], [LoadError(where, "an archive, not an article: archives are not unpacked; "
                                     "extract it and add the files")]
    if origin.suffix not in SUFFIXES:
        return [], [LoadError(where, f"unsupported file type {origin.suffix or '(none)'}; "
                                     f"expected one of {', '.join(SUFFIXES)}")]
    text, error = decode(raw)
    if error:
        return [], [LoadError(where, error)]
    if origin.suffix == ".jsonl":
        return parse_jsonl(text, where)
    parse = parse_html if origin.suffix in (".html", ".htm") else parse_plain
    return _one(parse(text, origin), where)


def read_bytes(path: Path) -> tuple[bytes, str]:
    try:
        return path.read_bytes(), ""
    except OSError as exc:
        return b"", f"cannot be read ({exc.strerror or exc})"


def read_text(path: Path) -> tuple[str, str]:
    """The file's text, or an empty text and the reason it can't be read."""
    raw, error = read_bytes(path)
    return ("", error) if error else decode(raw)


def decode(raw: bytes) -> tuple[str, str]:
    """Bytes as text (UTF-8, else Windows-1252), or an empty text and the reason they aren't."""
    if not raw.strip():
        return "", "empty file"
    if b"\x00" in raw[:8192]:
        return "", "binary file (contains NUL bytes), not text"
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding).replace("\r\n", "\n"), ""
        except UnicodeDecodeError:
            continue
    return "", "not UTF-8 and not decodable as Windows-1252 either"


def _one(article: Article, path: str) -> Loaded:
    if not article.text:
        return [], [LoadError(path, "no article text left after cleaning")]
    return [article], []


def parse_plain(text: str, origin: Origin) -> Article:
    """A .txt or .md article; title from front matter, a '# ' heading or a title line."""
    meta, body = _front_matter(text)
    body = clean_text(body)
    title = meta.get("title") or _title_line(body) or _humanize(origin.stem) or _lead(body)
    date, author = normalize_date(meta.get("date", "")), meta.get("author", "")
    return Article(origin.doc_id, title, body, origin.source, date, author)


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    match = re.match(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n", text, re.DOTALL)
    if not match:
        return {}, text
    pairs = (line.split(":", 1) for line in match.group(1).splitlines() if ":" in line)
    meta = {k.strip().lower(): v.strip().strip("\"'") for k, v in pairs}
    return meta, text[match.end():]


def _title_line(text: str) -> str:
    first, _, rest = text.partition("\n")
    first = first.strip()
    if first.startswith("#"):
        return first.lstrip("#").strip()
    looks_like_title = len(first) <= 150 and not first.endswith((".", "?", "!", ":", ","))
    return first if looks_like_title and rest.startswith("\n") else ""


def _humanize(stem: str) -> str:
    """'drug-war_update' -> 'drug war update'; '' when the name has no real words (a hash)."""
    words = [w for w in re.split(r"[\W_]+", stem) if w]
    wordy = any(re.fullmatch(r"[A-Za-z]{3,}", w) and not re.fullmatch(r"[a-f]+", w) for w in words)
    return " ".join(words) if wordy else ""


def _lead(text: str, max_words: int = 12) -> str:
    """The first sentence, cut to `max_words` words: a stand-in title."""
    spans = split_sentences(text)
    words = text[spans[0][0] : spans[0][1]].split() if spans else []
    return " ".join(words[:max_words]) + (" …" if len(words) > max_words else "")


def parse_html(html: str, origin: Origin) -> Article:
    """An HTML article: scripts, styles and navigation dropped, blocks kept as paragraphs."""
    soup = BeautifulSoup(html, "lxml")
    title = _first_text(soup, "title") or _first_text(soup, "h1") or _humanize(origin.stem)
    date = _meta(soup, "article:published_time", "date", "dc.date", "pubdate")
    if not date and (tag := soup.find("time", attrs={"datetime": True})):
        date = str(tag.get("datetime", ""))
    author = _meta(soup, "author", "article:author", "dc.creator")
    text = clean_text(_block_text(_root(soup)))
    return Article(origin.doc_id, title or _lead(text), text, origin.source,
                   normalize_date(date), author)


def _first_text(soup: BeautifulSoup, name: str) -> str:
    tag = soup.find(name)
    return " ".join(tag.get_text(" ").split()) if tag else ""


def _meta(soup: BeautifulSoup, *names: str) -> str:
    for name in names:
        tag = soup.find("meta", attrs={"name": name}) or soup.find("meta", property=name)
        if tag and tag.get("content"):
            return str(tag["content"]).strip()
    return ""


def _kept_tags(soup: BeautifulSoup) -> Iterator[Tag]:
    """Tags in document order, without the dropped ones (scripts, navigation) and their insides.
    Walked with a list, not recursion: 10,000 nested <div>s are fine."""
    stack: list[Tag] = [soup]
    while stack:
        tag = stack.pop()
        yield tag
        stack += reversed([c for c in tag.contents if isinstance(c, Tag)
                           and c.name not in _DROP_TAGS])


def _root(soup: BeautifulSoup) -> Tag:
    """The first <article>, else <main>, else <body> outside the dropped tags; else the page."""
    first: dict[str, Tag] = {}
    for tag in _kept_tags(soup):
        first.setdefault(tag.name, tag)
    return first.get("article") or first.get("main") or first.get("body") or soup


def _block_text(root: Tag) -> str:
    """The text under `root` without dropped tags, each block a paragraph, <br> a line break.
    One walk; editing the tree instead (insert, replace, decompose) is quadratic in the tags."""
    parts: list[str] = []
    stack: list[PageElement | str] = [root]
    while stack:
        node = stack.pop()
        if type(node) is str or type(node) in (NavigableString, CData):  # not comments
            parts.append(str(node))
        elif isinstance(node, Tag) and node.name not in _DROP_TAGS:
            if node.name == "br":
                parts.append("\n")
                continue
            if node.name in _BLOCK_TAGS:
                parts.append("\n\n")
                stack.append("\n\n")
            stack += reversed(node.contents)
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", "".join(parts)))
    return "\n\n".join(p for p in paragraphs if p)


def parse_jsonl(text: str, path: str) -> Loaded:
    """One article per line: id, text, and optional title, url, date, author."""
    articles: list[Article] = []
    errors: list[LoadError] = []
    # split on "\n" only: JSON strings may hold U+2028 and U+0085, which splitlines() breaks on
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            result = _jsonl_article(line, path)
            if isinstance(result, str):
                errors.append(LoadError(path, f"malformed JSONL line {number}: {result}"))
            else:
                articles.append(result)
    if not articles and not errors:  # only (Unicode) whitespace: say so rather than nothing
        errors.append(LoadError(path, "no JSONL records, only blank lines"))
    return articles, errors


def _jsonl_article(line: str, path: str) -> Article | str:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:  # "Unterminated string starting at": no "at at"
        return f"not JSON ({exc.msg.removesuffix(' at')} at column {exc.colno})"
    except RecursionError:
        return "not JSON we can read (nested too deeply)"
    except ValueError as exc:  # "Exceeds the limit (4300 digits) for integer string conversion"
        return f"not JSON we can read ({str(exc).split(':')[0]})"
    if not isinstance(record, dict):
        return "expected a JSON object"
    doc_id, text = record.get("id"), record.get("text")
    if isinstance(doc_id, bool) or not isinstance(doc_id, str | int) or not str(doc_id).strip():
        return "missing 'id'"
    doc_id = _no_surrogates(str(doc_id))
    if not isinstance(text, str) or not text.strip():
        return f"article {doc_id!r} has no 'text'"
    fields = {k: _no_surrogates(str(record.get(k) or "").strip())
              for k in ("title", "url", "date", "author")}
    body = clean_text(text)
    if not body:
        return f"article {doc_id!r} has no text left after cleaning"
    return Article(str(doc_id).strip(), fields["title"], body, fields["url"] or f"{path}#{doc_id}",
                   normalize_date(fields["date"]), fields["author"])


def _no_surrogates(text: str) -> str:
    """`text` with lone surrogates (JSON escapes like \\ud800, odd file names) as U+FFFD: they
    can't be encoded, so neither the tokenizer nor the store would take them."""
    return _SURROGATE.sub("\ufffd", text)


def file_doc_id(path: Path) -> str:
    """A readable id, stable for a file wherever it is added from: its stem and path hash."""
    digest = hashlib.sha1(os.fsencode(path.resolve())).hexdigest()[:8]  # any name's bytes
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", path.stem).strip("-")[:60] or "article"
    return f"{slug}-{digest}"


def normalize_date(raw: str) -> str:
    """'2009-10-07T12:00Z' -> '2009-10-07'; dates in other forms are kept as given."""
    match = _DATE.match(raw.strip())
    if not match:
        return raw.strip()
    return "-".join(part for part in match.groups() if part)


def is_date(text: str) -> bool:
    """True for exactly YYYY, YYYY-MM or YYYY-MM-DD (surrounding spaces aside), no time."""
    return _DATE_ONLY.match(text.strip()) is not None


def date_number(date: str, upper: bool = False) -> int | None:
    """'2009-10-07' -> 20091007 and '2009' -> 20090000 (or 20091299 as an upper bound), for
    range filters; None if not ISO."""
    match = _DATE.match(date.strip())
    if not match:
        return None
    year, month, day = match.groups()
    fill_month, fill_day = (12, 99) if upper else (0, 0)
    return int(year) * 10000 + int(month or fill_month) * 100 + int(day or fill_day)


def load_paths(paths: list[str]) -> Iterator[Loaded]:
    """Expand `paths` and load each file, yielding its articles and errors as it goes."""
    files, errors = expand_paths(paths)
    if errors:
        yield [], errors
    for path in files:
        yield load_file(path)
