"""Read article files (.txt, .md, .html/.htm, .jsonl) into cleaned `Article`s.

Problems become `LoadError`s that name the file (and line) and the reason; nothing here raises for
bad input, so one bad file never stops a batch. It does not chunk, embed or store.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup

from index.clean import clean_text
from index.sentences import split_sentences
from index.types import Article, LoadError

SUFFIXES = (".txt", ".md", ".html", ".htm", ".jsonl")
_DROP_TAGS = ("script", "style", "nav", "header", "footer", "aside", "form", "noscript", "iframe",
              "svg", "template", "button")
_BLOCK_TAGS = ("p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li",
               "ul", "ol", "blockquote", "pre", "table", "tr", "figure", "figcaption", "dl", "dt",
               "dd", "hr")
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:[T ].*)?$")

Loaded = tuple[list[Article], list[LoadError]]


def expand_paths(paths: list[str]) -> tuple[list[Path], list[LoadError]]:
    """Files named directly or found (recursively, sorted) in folders; missing paths are errors."""
    files: list[Path] = []
    errors: list[LoadError] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if _is_article_file(p, path))
        elif path.is_file():
            files.append(path)
        else:
            errors.append(LoadError(raw, "no such file or folder"))
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
    return Origin(file_doc_id(path), str(path.resolve()), path.stem, path.suffix.lower())


def upload_origin(name: str) -> Origin:
    """An uploaded file: only the last part of its name is kept, and never used as a path."""
    base = re.split(r"[\\/]", name)[-1].strip() or "upload"
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
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    text = clean_text(_block_text(root))
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


def _block_text(root: object) -> str:
    for br in root.find_all("br"):  # type: ignore[attr-defined]
        br.replace_with("\n")
    for tag in root.find_all(_BLOCK_TAGS):  # type: ignore[attr-defined]
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    text = root.get_text()  # type: ignore[attr-defined]
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
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
    return articles, errors


def _jsonl_article(line: str, path: str) -> Article | str:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return f"not JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(record, dict):
        return "expected a JSON object"
    doc_id, text = record.get("id"), record.get("text")
    if not isinstance(doc_id, str | int) or str(doc_id).strip() == "":
        return "missing 'id'"
    if not isinstance(text, str) or not text.strip():
        return f"article {doc_id!r} has no 'text'"
    fields = {k: str(record.get(k) or "").strip() for k in ("title", "url", "date", "author")}
    body = clean_text(text)
    if not body:
        return f"article {doc_id!r} has no text left after cleaning"
    return Article(str(doc_id).strip(), fields["title"], body, fields["url"] or f"{path}#{doc_id}",
                   normalize_date(fields["date"]), fields["author"])


def file_doc_id(path: Path) -> str:
    """A readable id, stable for a file wherever it is added from: its stem and path hash."""
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", path.stem).strip("-")[:60] or "article"
    return f"{slug}-{digest}"


def normalize_date(raw: str) -> str:
    """'2009-10-07T12:00Z' -> '2009-10-07'; dates in other forms are kept as given."""
    match = _DATE.match(raw.strip())
    if not match:
        return raw.strip()
    return "-".join(part for part in match.groups() if part)


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
