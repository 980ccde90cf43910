"""Property tests of the loader, sentence splitter and chunker under hostile input.

Any bytes or text in: control characters, NUL, right-to-left text, emoji, combining marks, CJK and
Hangul, CRLF and lone CR, very long words, no punctuation, only whitespace, markup-looking text,
lone surrogates (escaped in JSON, or encoded in the bytes). Loading gives articles or `LoadError`s
with a reason for a human, never an exception; chunks are exact slices that cover every sentence,
fit the model's window and have stable, unique ids. Examples are derandomized and no example
database is kept, so a CI run is the same every time.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.chunk import MAX_CHUNK_CHARS, SPECIAL_TOKENS, chunk_article, fit_title
from index.clean import clean_text
from index.embed import MAX_TOKENS, MiniLMEmbeddings
from index.load import SUFFIXES, Origin, decode, load_upload, parse_bytes
from index.sentences import split_sentences
from index.types import Article, Chunk, LoadError

pytestmark = pytest.mark.slow
TARGET_TOKENS = 160  # chunk_article's target: a sentence up to this size is never cut

DETERMINISTIC = settings(derandomize=True, database=None, deadline=None, print_blob=True,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def examples(n: int) -> settings:
    """The deterministic settings with `n` examples."""
    return settings(DETERMINISTIC, max_examples=n)


# Pieces of hostile text; the strategies below glue them together with arbitrary unicode.
FRAGMENTS = [
    " ", "  ", "\t", "\n", "\n\n", "\r\n", "\r", "\r\n\r\n", "\x0c", "\x0b", "\x1c", "\x00", "\x07",
    "\x1b[31m", "\x7f", "\x85", "\u00a0", "\u2028", "\u2029", "\u200b", "\u200d", "\ufeff", "\ufffd",
    "\u202e", "\u202d", "مرحبا بالعالم", "שָׁלוֹם", "😀", "👨‍👩‍👧‍👦", "🇲🇽", "e\u0301", "\u0301\u0301\u0301",
    "Z\u0351\u0352\u0353\u0354\u0355", "漢字テキスト", "한국어 문장", "ﬁ", "ǅ", "Ⅻ",
    "Mr.", "Dr. ", "U.S. ", "No. 2", "e.g. ", "Jan. 29", " A. ", "...", "…", "?!", ".”", "’)",
    "# ", "## Heading\n", "- ", "* ", "• ", "1. ", "2) ", "---\n", "title: T\n", "date: 2020\n",
    "<p>", "</p>", "<br>", "<div>", "<script>x</script>", "<style>", "<title>", "</title>",
    "<!--", "-->", "<![CDATA[", "]]>", "&amp;", "&#0;", "&#xD800;", "&#x1F600;", "&nbsp;",
    "<article>", "<meta name=\"author\" content=\"\u202eA\">", "<time datetime=\"\x00\">",
    "â€™", "Ã©", "â ", "Share this!\n", "{", "}", "\"", "\\", "[", "]", ":", ",",
]
LONG_WORDS = [
    "x" * 700, "-".join(["alpha", "beta"] * 120), "한" * 400, "한-" * 250, "漢" * 600, "😀" * 300,
    "e\u0301" * 300, "a.b" * 200, "ab1" * 300, "\u0301" * 500, "ǅ" * 400, "." * 500,
]
SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)
ANY_CHAR = st.one_of(st.characters(), SURROGATES)  # lone surrogates too
# Python's whitespace; the tokenizer deletes some of it (\x0b, \x0c, \x1f, \x85), gluing words
WHITESPACE = st.sampled_from([" ", "\n", "\t", "\x0c", "\x0b", "\x1f", "\x85", "\u00a0", "\u2028",
                              "\u3000"])


def glued(space: str, first: str, second: str, pairs: int) -> str:
    """"q<space>subsequently q<space>subsequently ...": 2 word pieces a pair, or 6 if glued."""
    return " ".join([space.join([first, second])] * pairs)


GLUED = st.builds(glued, WHITESPACE, st.sampled_from(["q", "x"]),
                  st.sampled_from(["subsequently", "photosynthesis"]), st.integers(1, 300))


def hostile_text(max_parts: int = 40) -> st.SearchStrategy[str]:
    part = st.one_of(
        st.sampled_from(FRAGMENTS),
        st.text(max_size=12),
        st.text(st.characters(codec="utf-8"), max_size=8),
        st.text(st.sampled_from("ab .\n"), max_size=30),
        st.sampled_from(LONG_WORDS),
        st.builds(lambda n: " ".join(["word"] * n) + ".", st.integers(0, 400)),  # no punctuation
        GLUED,
    )
    return st.lists(part, max_size=max_parts).map("".join)


def encoded(text: str, encoding: str) -> bytes:
    return text.encode(encoding, "surrogatepass" if encoding == "utf-8" else "replace")


def hostile_bytes() -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=300),
        st.builds(encoded, hostile_text(), st.sampled_from(["utf-8", "utf-8-sig", "cp1252"])),
        st.builds(encoded, hostile_text(), st.sampled_from(["utf-16", "latin-1"])),
        st.builds(encoded, st.text(ANY_CHAR), st.just("utf-8")),
    )


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(ANY_CHAR),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                 max_size=3),
    max_leaves=6,
)


@st.composite
def jsonl_line(draw: st.DrawFn) -> str:
    """A JSONL line: a record of arbitrary fields, or text that only looks like one."""
    keys = st.sampled_from(["id", "text", "title", "url", "date", "author", "other"])
    values = st.one_of(JSON_VALUES, hostile_text(8), st.integers(-(10**20), 10**20))
    record = draw(st.dictionaries(keys, values, max_size=6))
    if draw(st.booleans()):
        record.setdefault("id", draw(st.text(ANY_CHAR, min_size=1, max_size=6)))
        record.setdefault("text", draw(hostile_text(12)))
    line = json.dumps(record, ensure_ascii=draw(st.booleans()))
    return draw(st.sampled_from([line, line[: len(line) // 2], draw(hostile_text(6)), "  "]))


def jsonl_bytes() -> st.SearchStrategy[bytes]:
    lines = st.lists(jsonl_line(), max_size=5)
    return st.builds(lambda ls, sep: sep.join(ls).encode("utf-8", "surrogatepass"), lines,
                     st.sampled_from(["\n", "\r\n", "\u2028", "\n\n"]))


def assert_loaded(articles: list[Article], errors: list[LoadError], source: str) -> None:
    """Articles with text, or errors naming the upload with a reason a human can read."""
    assert articles or errors, "nothing loaded and no reason given"
    for error in errors:
        assert isinstance(error, LoadError) and error.path == source
        assert error.reason.strip() and error.reason.isprintable()
    for article in articles:
        assert isinstance(article, Article)
        assert article.doc_id.strip() and article.text and article.text == article.text.strip()
        for value in (article.doc_id, article.title, article.text, article.source, article.date,
                      article.author):
            value.encode("utf-8")  # no lone surrogates reach the tokenizer or the store


NAMES = st.sampled_from(["a.txt", "b.md", "c.html", "d.htm", "e.jsonl", "F.TXT", "g.pdf",
                         "noext", "h.tar.gz", ".txt", "dir/../i.md", "C:\\x\\j.html"])


@examples(300)
@given(name=NAMES, raw=hostile_bytes())
def test_any_upload_loads_or_gives_a_reason(name: str, raw: bytes) -> None:
    articles, errors = load_upload(name, raw)
    source = "upload:" + name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    assert_loaded(articles, errors, source)


@examples(150)
@given(raw=jsonl_bytes())
def test_any_jsonl_loads_or_gives_a_reason(raw: bytes) -> None:
    articles, errors = load_upload("feed.jsonl", raw)
    assert_loaded(articles, errors, "upload:feed.jsonl")
    for error in errors:
        assert error.reason.startswith(("malformed JSONL line ", "empty file", "binary file",
                                        "not UTF-8", "no JSONL records", "unknown field"))
        assert error.warning == error.reason.startswith("unknown field")


@examples(100)
@given(suffix=st.sampled_from(SUFFIXES), text=hostile_text())
def test_any_text_in_any_format_loads_or_gives_a_reason(suffix: str, text: str) -> None:
    origin = Origin("doc", "src", "stem", suffix)
    raw = text.encode("utf-8")
    assert_loaded(*parse_bytes(raw, origin), "src")
    decoded, error = decode(raw)
    assert bool(decoded) != bool(error)


@examples(100)
@given(name=st.text(ANY_CHAR, max_size=30), raw=hostile_bytes())
def test_any_upload_name_is_safe(name: str, raw: bytes) -> None:
    articles, errors = load_upload(name, raw)
    for article in articles:
        assert "/" not in article.doc_id and "\\" not in article.doc_id
    assert articles or errors


def sentences_ok(text: str) -> list[tuple[int, int]]:
    spans = split_sentences(text)
    previous_end = 0
    for a, b in spans:
        assert previous_end <= a < b <= len(text)
        assert not text[a].isspace() and not text[b - 1].isspace()
        previous_end = b
    squeezed = "".join("".join(text[a:b].split()) for a, b in spans)
    assert squeezed == "".join(text.split())  # only whitespace falls between sentences
    return spans


@examples(300)
@given(text=hostile_text())
def test_sentence_spans_are_inside_ordered_and_lose_only_whitespace(text: str) -> None:
    sentences_ok(text)
    sentences_ok(clean_text(text))


def assert_chunks(article: Article, chunks: list[Chunk], embedder: MiniLMEmbeddings) -> None:
    text, title = article.text, fit_title(article.title, embedder.count_tokens)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert 0 <= c.start < c.end <= len(text) and c.text == text[c.start : c.end]
        assert len(c.text) <= MAX_CHUNK_CHARS  # issue 21: one 5 MB "word" was one chunk
        assert c.embed_text == (f"{title}\n\n{c.text}" if title else c.text)
        assert c.doc_id == article.doc_id and c.chunk_id.startswith(article.doc_id + ":")
    for prev, nxt in zip(chunks, chunks[1:], strict=False):
        assert prev.start < nxt.start and prev.end < nxt.end
    counts = embedder.count_tokens([c.embed_text for c in chunks]) if chunks else []
    assert all(n + SPECIAL_TOKENS <= MAX_TOKENS for n in counts), counts
    spans = split_sentences(text)
    sizes = embedder.count_tokens([text[a:b] for a, b in spans]) if spans else []
    covered = bytearray(len(text))
    for c in chunks:
        covered[c.start : c.end] = b"\x01" * (c.end - c.start)
    for (a, b), size in zip(spans, sizes, strict=True):
        if size <= TARGET_TOKENS and b - a <= MAX_CHUNK_CHARS:  # a sentence that fits is whole
            assert any(c.start <= a and b <= c.end for c in chunks), text[a:b]
        assert all(covered[i] or text[i].isspace() for i in range(a, b)), text[a:b]
    ids = [c.chunk_id for c in chunks]
    assert len(set(ids)) == len(ids)


@examples(150)
@given(text=hostile_text(), title=hostile_text(6), more=hostile_text(4))
def test_chunks_are_slices_that_cover_every_sentence_and_fit(
    text: str, title: str, more: str, embedder: MiniLMEmbeddings
) -> None:
    article = Article("doc-1", title, clean_text(text), "src")
    chunks = chunk_article(article, embedder.count_tokens)
    assert_chunks(article, chunks, embedder)
    again = chunk_article(replace(article), embedder.count_tokens)
    assert again == chunks  # stable
    other = chunk_article(replace(article, doc_id="doc-2"), embedder.count_tokens)
    assert not {c.chunk_id for c in other} & {c.chunk_id for c in chunks}
    # content-derived: the same slice of the text keeps its id when the text grows, and a
    # different slice never takes an id
    longer = replace(article, text=clean_text(article.text + " " + more))
    ids: dict[str, tuple[int, int, str]] = {}
    for c in chunks + chunk_article(longer, embedder.count_tokens):
        assert ids.setdefault(c.chunk_id, (c.start, c.end, c.text)) == (c.start, c.end, c.text)
    assert len(set(ids.values())) == len(ids)


@examples(60)
@given(name=st.sampled_from(["a.txt", "b.md", "c.html", "e.jsonl"]), raw=hostile_bytes())
def test_loaded_articles_chunk_cleanly(name: str, raw: bytes, embedder: MiniLMEmbeddings) -> None:
    for article in load_upload(name, raw)[0]:
        assert_chunks(article, chunk_article(article, embedder.count_tokens), embedder)


@examples(60)
@given(text=GLUED)
def test_words_between_any_whitespace_chunk_within_the_window(
    text: str, embedder: MiniLMEmbeddings
) -> None:
    """Token counts of words add up only across what the tokenizer also takes for a space."""
    article = Article("doc", "", clean_text(text), "src")
    assert_chunks(article, chunk_article(article, embedder.count_tokens), embedder)
