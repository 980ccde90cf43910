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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from index.clean import clean_text
from index.sentences import split_sentences
from index.types import Article, LoadError
from index.webpage import read_page

SUFFIXES = (".txt", ".md", ".html", ".htm", ".jsonl")
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

# An article's text is read up to this many characters (an HTML file's, markup included); the
# rest is left out and the report says so. 2,000,000 characters is a long book; the longest
# article of the evaluation sets has 100,000.
MAX_ARTICLE_CHARS = 2_000_000
# The metadata stored with every chunk: one line each, at most this long.
MAX_TITLE_CHARS, MAX_AUTHOR_CHARS, MAX_DATE_CHARS, MAX_SOURCE_CHARS = 300, 200, 100, 2_000
MAX_ID_CHARS = 200
# Folded to a space in metadata: Unicode's whitespace, control (Cc) and format (Cf) characters,
# the line and paragraph separators (Unicode 14; tests/index/test_load.py checks the list).
_FOLD = re.compile(
    "[\x00-\x20\x7f-\xa0\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u1680"
    "\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u2066-\u206f\u3000\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f]+")
_WEB_URL = re.compile(r"https?://[^\s\"<>`]+", re.IGNORECASE)


def expand_paths(paths: list[str]) -> tuple[list[Path], list[LoadError]]:
    """Files named directly or found (recursively, sorted) in folders; missing paths are errors."""
    found, errors = _expand(paths)
    return [path for path, _ in found], errors


def _expand(paths: list[str]) -> tuple[list[tuple[Path, str]], list[LoadError]]:
    """Each file with the source shown for it: `samples/x.txt` for a file of the folder
    `data/samples`, its name for a file given directly; never an absolute server path."""
    found: list[tuple[Path, str]] = []
    errors: list[LoadError] = []
    for raw in paths:
        path = Path(raw)
        try:
            if path.is_dir():
                found += [(p, shown_path(p, path)) for p in sorted(path.rglob("*"))
                          if _is_article_file(p, path)]
            elif path.is_file():
                found.append((path, shown_path(path)))
            else:
                errors.append(LoadError(raw, "no such file or folder"))
        except OSError as exc:  # a name too long for the file system, a folder we may not list
            errors.append(LoadError(raw, f"cannot be read ({exc.strerror or exc})"))
    return found, errors


def shown_path(path: Path, folder: Path | None = None) -> str:
    """The source stored for a file: its path from the folder that was added, that folder's
    name first (`samples/000_x.txt` for `data/samples`); a file added by itself, its name."""
    if folder is None:
        return _no_surrogates(path.name)
    return _no_surrogates("/".join([folder.resolve().name, *path.relative_to(folder).parts])
                          .lstrip("/"))


def _is_article_file(path: Path, root: Path) -> bool:
    hidden = any(part.startswith(".") for part in path.relative_to(root).parts)
    return path.is_file() and not hidden and path.suffix.lower() in SUFFIXES


@dataclass(frozen=True)
class Origin:
    """Where an article came from: its id, the source shown with citations, a name for titles,
    and the name its problems are reported under (the source, unless given)."""

    doc_id: str
    source: str
    stem: str
    suffix: str
    label: str = ""


def file_origin(path: Path, shown: str = "") -> Origin:
    """A file's origin: its id hashes its absolute path, its source is `shown` (its name if
    none is given), so that no absolute server path is ever stored or shown."""
    stem = _no_surrogates(path.stem)  # a file name that isn't UTF-8 holds lone surrogates
    return Origin(file_doc_id(path), shown or shown_path(path), stem, path.suffix.lower(),
                  label=_no_surrogates(str(path.resolve())))  # for the one who ran the command


def upload_origin(name: str) -> Origin:
    """An uploaded file: only the last part of its name is kept, and never used as a path."""
    base = _no_surrogates(re.split(r"[\\/]", name)[-1].strip()) or "upload"
    stem, dot, suffix = base.rpartition(".")
    stem, suffix = (stem, f".{suffix.lower()}") if dot and stem else (base, "")
    digest = hashlib.sha1(base.encode()).hexdigest()[:8]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.")[:60] or "article"
    return Origin(f"upload-{slug}-{digest}", f"upload:{base}", stem, suffix)


def load_file(path: Path, shown: str = "") -> Loaded:
    """Read one file into articles; a file of another type or unreadable bytes is an error.
    `shown` is the source to store for it (see `shown_path`)."""
    origin = file_origin(path, shown)
    if path.suffix.lower() not in SUFFIXES:
        return parse_bytes(b"", origin)
    raw, error = read_bytes(path)
    if error:
        return [], [LoadError(origin.label, error)]
    return parse_bytes(raw, origin)


def load_upload(name: str, raw: bytes) -> Loaded:
    """Read an uploaded file's bytes into articles, like `load_file` reads a file."""
    return parse_bytes(raw, upload_origin(name))


def parse_bytes(raw: bytes, origin: Origin) -> Loaded:
    """Articles from the bytes of a file of `origin.suffix`, or the reason there are none."""
    where = origin.label or origin.source
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
        articles, errors = parse_jsonl(text, where, origin.source)
    else:
        text, notes = capped(text, where)
        parse = parse_html if origin.suffix in (".html", ".htm") else parse_plain
        articles, errors = _one(parse(text, origin), where)
        errors += notes if articles else []
    return [tidy(article) for article in articles], errors


def capped(text: str, where: str, what: str = "") -> tuple[str, list[LoadError]]:
    """`text` cut to MAX_ARTICLE_CHARS, and a note saying so (not a skip) when it was longer:
    reading, cleaning and embedding cost grows with the text, so one article's is bounded."""
    if len(text) <= MAX_ARTICLE_CHARS:
        return text, []
    note = (f"{what}only the first {MAX_ARTICLE_CHARS:,} of its {len(text):,} characters were "
            f"indexed (the limit per article); split it to index the rest")
    return text[:MAX_ARTICLE_CHARS], [LoadError(where, note, skipped=False)]


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
    text = text[:2_000]  # enough for the words wanted, whatever the length of the text
    spans = split_sentences(text)
    words = text[spans[0][0] : spans[0][1]].split() if spans else []
    return " ".join(words[:max_words]) + (" …" if len(words) > max_words else "")


def parse_html(html: str, origin: Origin) -> Article:
    """An HTML article: scripts, styles and navigation dropped, blocks kept as paragraphs."""
    page = read_page(html)
    title = page.fields.get("title") or page.fields.get("h1") or _humanize(origin.stem)
    date = page.meta("article:published_time", "date", "dc.date", "pubdate")
    author = page.meta("author", "article:author", "dc.creator")
    text = clean_text(page.text)
    return Article(origin.doc_id, title or _lead(text), text, origin.source,
                   normalize_date(date or page.fields.get("time", "")), author)


def parse_jsonl(text: str, path: str, source: str = "") -> Loaded:
    """One article per line: id, text, and optional title, url, date, author (or authors, a
    list). Problems are reported under `path`, and other fields in one warning; an article
    without a URL has the source `SOURCE#ID`."""
    articles: list[Article] = []
    errors: list[LoadError] = []
    fields: set[str] = set()
    # split on "\n" only: JSON strings may hold U+2028 and U+0085, which splitlines() breaks on
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            result = _jsonl_article(line, path, source or path, fields)
            if isinstance(result, str):
                errors.append(LoadError(path, f"malformed JSONL line {number}: {result}"))
            else:
                articles.append(result[0])
                errors += result[1]
    if not articles and not errors:  # only (Unicode) whitespace: say so rather than nothing
        errors.append(LoadError(path, "no JSONL records, only blank lines"))
    return articles, errors + unknown_fields(fields, path)


JSONL_FIELDS = ("id", "text", "title", "url", "date", "author", "authors")


def unknown_fields(fields: set[str], path: str) -> list[LoadError]:
    """One warning for a JSONL file's fields that are not read (a misspelt `titel` would
    otherwise leave every title out without a word), naming them."""
    unknown = sorted(fields - set(JSONL_FIELDS))
    if not unknown:
        return []
    named = ", ".join(repr(one_line(_no_surrogates(name), 40)) for name in unknown[:10])
    more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
    return [LoadError(path, f"unknown field{'s' * (len(unknown) > 1)} {named}{more} left out "
                            f"(read: {', '.join(JSONL_FIELDS)})", skipped=False, warning=True)]


def _jsonl_article(line: str, path: str, source: str,
                   fields_seen: set[str]) -> tuple[Article, list[LoadError]] | str:
    """The article of one JSONL line and any note on it, or what is wrong with the line; the
    line's field names go into `fields_seen`."""
    record = _json_object(line)
    if isinstance(record, str):
        return record
    fields_seen.update(record)
    doc_id, text = record.get("id"), record.get("text")
    if isinstance(doc_id, bool) or not isinstance(doc_id, str | int) or not str(doc_id).strip():
        return "missing 'id'"
    doc_id = _no_surrogates(str(doc_id)).strip()
    if problem := id_problem(doc_id):
        return problem
    if not isinstance(text, str) or not text.strip():
        return f"article {doc_id!r} has no 'text'"
    fields = {k: _no_surrogates(str(record.get(k) or "").strip()) for k in ("title", "url", "date")}
    fields["author"] = _no_surrogates(_author(record))
    text, notes = capped(text, path, f"article {doc_id!r}: ")
    body = clean_text(text)
    if not body:
        return f"article {doc_id!r} has no text left after cleaning"
    url = web_url(fields["url"]) or f"{source}#{doc_id}"
    return Article(doc_id, fields["title"], body, url, normalize_date(fields["date"]),
                   fields["author"]), notes


def _author(record: dict[str, Any]) -> str:
    """`author`, else `authors`: a string, or a list of strings joined with ", "."""
    for key in ("author", "authors"):
        value = record.get(key)
        if isinstance(value, list):
            value = ", ".join(v.strip() for v in value if isinstance(v, str) and v.strip())
        if text := str(value or "").strip():
            return text
    return ""


def _json_object(line: str) -> dict[str, Any] | str:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:  # "Unterminated string starting at": no "at at"
        return f"not JSON ({exc.msg.removesuffix(' at')} at column {exc.colno})"
    except RecursionError:
        return "not JSON we can read (nested too deeply)"
    except ValueError as exc:  # "Exceeds the limit (4300 digits) for integer string conversion"
        return f"not JSON we can read ({str(exc).split(':')[0]})"
    return record if isinstance(record, dict) else "expected a JSON object"


def id_problem(doc_id: str) -> str:
    """Why `doc_id` can't be an article id, or "": an id is one line of printable text of at
    most MAX_ID_CHARS characters (slashes and spaces allowed), so that it can be listed,
    shown and removed like any other."""
    if len(doc_id) > MAX_ID_CHARS:
        return f"'id' is {len(doc_id):,} characters long; the limit is {MAX_ID_CHARS}"
    if not doc_id.isprintable():
        return (f"'id' {doc_id!r} holds a line break, tab, control or invisible character; "
                "an id is one line of printable text")
    return ""


def one_line(text: str, limit: int) -> str:
    """`text` as one line of plain text of at most `limit` characters (cut with "…"): line
    breaks, tabs, control characters, invisible formatting (zero-width, bidi) and runs of
    spaces each become one space."""
    text = _FOLD.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def web_url(raw: str) -> str:
    """`raw` if it is one http:// or https:// URL of at most MAX_SOURCE_CHARS characters, with
    no space, control or invisible character and no `"<>` ` in it; else "" (javascript:,
    data:, file: and the like are never kept)."""
    url = raw.strip()
    fine = len(url) <= MAX_SOURCE_CHARS and one_line(url, MAX_SOURCE_CHARS) == url
    return url if fine and _WEB_URL.fullmatch(url) else ""


def tidy(article: Article) -> Article:
    """The article with its title, author, date and source each one line of plain text, capped:
    made once here, whatever the article was read from, so every page and chunk gets them so."""
    return replace(article, title=one_line(article.title, MAX_TITLE_CHARS),
                   author=one_line(article.author, MAX_AUTHOR_CHARS),
                   date=one_line(article.date, MAX_DATE_CHARS),
                   source=one_line(article.source, MAX_SOURCE_CHARS))


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
    found, errors = _expand(paths)
    if errors:
        yield [], errors
    for path, shown in found:
        yield load_file(path, shown)
