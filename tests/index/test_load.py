"""Loading .txt, .md, .html and .jsonl files into articles, and bad input into LoadErrors."""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from index.load import (
    MAX_ARTICLE_CHARS,
    MAX_AUTHOR_CHARS,
    MAX_ID_CHARS,
    MAX_TITLE_CHARS,
    expand_paths,
    file_doc_id,
    load_file,
    load_paths,
    load_upload,
    one_line,
    read_text,
    web_url,
)
from index.sentences import split_sentences
from index.types import Article, LoadError
from tests.conftest import SAMPLES, slower, write


def one(path: Path) -> Article:
    articles, errors = load_file(path)
    assert errors == [] and len(articles) == 1
    return articles[0]


def error_of(path: Path) -> str:
    articles, errors = load_file(path)
    assert articles == [] and len(errors) == 1 and errors[0].path == str(path)
    return errors[0].reason


# --- .txt titles -------------------------------------------------------------------------------


def test_txt_title_is_a_first_line_followed_by_a_blank_line(tmp_path: Path) -> None:
    article = one(write(tmp_path / "0a1b2c.txt", "My Title\n\nFirst sentence. Second one."))
    assert article.title == "My Title"
    assert article.text == "My Title\n\nFirst sentence. Second one."
    assert article.source == "0a1b2c.txt"  # never the absolute path on the server


def test_txt_title_comes_from_a_wordy_file_name(tmp_path: Path) -> None:
    article = one(write(tmp_path / "drug-war_update.txt", "First sentence.\n\nSecond one."))
    assert article.title == "drug war update"


def test_txt_title_falls_back_to_the_lead_sentence(tmp_path: Path) -> None:
    assert one(write(tmp_path / "0a1b2c.txt", "Short lead here. More.")).title == "Short lead here."


def test_sample_titles() -> None:
    assert one(SAMPLES / "001_6af38f333212537e.txt").title == (
        "WikiLeaks Cables Reveal Unease Over Mexican Drug War")
    assert one(SAMPLES / "000_b1f5c98873b2f0c9.txt").title == (
        "Because the update was late last week, it's two weeks worth of …")


# --- .md -----------------------------------------------------------------------------------------

FRONT_MATTER = ('---\ntitle: "Front: Matter Title"\ndate: 2011-02-17T08:00:00Z\n'
                "author: Ann Author\n---\n# A Heading\n\nBody text here.\n")


def test_md_front_matter_gives_title_date_and_author(tmp_path: Path) -> None:
    article = one(write(tmp_path / "0a1b2c.md", FRONT_MATTER))
    assert (article.title, article.date, article.author) == (
        "Front: Matter Title", "2011-02-17", "Ann Author")
    assert article.text == "# A Heading\n\nBody text here."


def test_md_heading_is_the_title(tmp_path: Path) -> None:
    article = one(write(tmp_path / "0a1b2c.md", "# The Heading\n\nBody text here."))
    assert article.title == "The Heading"


def test_md_front_matter_with_windows_line_ends(tmp_path: Path) -> None:
    article = one(write(tmp_path / "0a1b2c.md", FRONT_MATTER.replace("\n", "\r\n").encode()))
    assert (article.title, article.date, article.author) == (
        "Front: Matter Title", "2011-02-17", "Ann Author")
    assert "author:" not in article.text


# --- .html ---------------------------------------------------------------------------------------

HTML = """<!doctype html><html><head>
<title>Page Title</title>
<meta name="author" content="Ann Author">
<meta property="article:published_time" content="2011-02-17T08:00:00+00:00">
<style>.x { color: red }</style><script>var tracking = "SCRIPT TEXT";</script>
</head><body>
<nav>Home | NAV TEXT</nav>
<article><h1>Article Heading</h1>
<p>Read <a href="/r">the full <b>report</b></a> now. It is long.</p>
<p>Second paragraph.</p></article>
<footer>FOOTER TEXT</footer>
</body></html>"""


def test_html_title_meta_and_text(tmp_path: Path) -> None:
    article = one(write(tmp_path / "page.html", HTML))
    assert (article.title, article.author, article.date) == ("Page Title", "Ann Author",
                                                             "2011-02-17")
    for dropped in ("SCRIPT TEXT", "color: red", "NAV TEXT", "FOOTER TEXT"):
        assert dropped not in article.text
    assert article.text == "Article Heading\n\nRead the full report now. It is long.\n\n" \
                           "Second paragraph."


def test_html_inline_tags_do_not_split_a_sentence(tmp_path: Path) -> None:
    text = one(write(tmp_path / "page.html", HTML)).text
    assert "Read the full report now." in [text[a:b] for a, b in split_sentences(text)]


def test_html_title_falls_back_to_h1(tmp_path: Path) -> None:
    html = HTML.replace("<title>Page Title</title>", "")
    assert one(write(tmp_path / "page.htm", html)).title == "Article Heading"


# --- .jsonl --------------------------------------------------------------------------------------


def jsonl(*records: object) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def test_jsonl_records_become_articles(tmp_path: Path) -> None:
    path = write(tmp_path / "feed.jsonl", jsonl(
        {"id": "a1", "title": "First", "text": "Text one.", "url": "https://example.org/a1",
         "date": "2011-02-17T08:00:00Z", "author": "Ann"},
        {"id": 7, "text": "Text two."}))
    articles, errors = load_file(path)
    assert errors == []
    assert articles == [
        Article("a1", "First", "Text one.", "https://example.org/a1", "2011-02-17", "Ann"),
        Article("7", "", "Text two.", "feed.jsonl#7", "", ""),
    ]


@pytest.mark.parametrize(("authors", "shown"), [
    (["Ann Lee", " Bo Chen ", "", 7], "Ann Lee, Bo Chen"), ("Ann Lee and Bo Chen",
                                                          "Ann Lee and Bo Chen"), ([], "")])
def test_jsonl_authors_a_list_or_a_string(tmp_path: Path, authors: object, shown: str) -> None:
    path = write(tmp_path / "feed.jsonl", jsonl({"id": "a", "text": "One.", "authors": authors}))
    articles, errors = load_file(path)
    assert errors == [] and articles[0].author == shown


def test_jsonl_author_is_read_before_authors(tmp_path: Path) -> None:
    path = write(tmp_path / "feed.jsonl", jsonl(
        {"id": "a", "text": "One.", "author": "Ann", "authors": ["Bo"]}))
    assert load_file(path)[0][0].author == "Ann"


def test_jsonl_unknown_fields_are_one_warning_per_file(tmp_path: Path) -> None:
    path = write(tmp_path / "feed.jsonl", jsonl(
        {"id": "a", "text": "One.", "titel": "Typo", "byline": "Ann"},
        {"id": "b", "text": "Two.", "titel": "Typo too", "tags": ["x"]}))
    articles, errors = load_file(path)
    assert [a.doc_id for a in articles] == ["a", "b"] and articles[0].title == ""
    assert errors == [LoadError(
        str(path), "unknown fields 'byline', 'tags', 'titel' left out (read: id, text, title, "
        "url, date, author, authors)", skipped=False, warning=True)]


def test_a_warning_is_counted_apart_and_add_succeeds(tmp_path: Path, store_dir: str,
                                                     use_model: None,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from index.__main__ import main

    path = write(tmp_path / "feed.jsonl", jsonl({"id": "a", "text": "One.", "titel": "T"}))
    assert main(["add", str(path), "--store", store_dir]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("1 new, 0 updated, 0 unchanged, 0 skipped; 1 chunks written; 1 warning")
    assert f"warning: {path}: unknown field 'titel' left out" in err


def test_jsonl_bad_line_is_reported_and_the_others_load(tmp_path: Path) -> None:
    path = write(tmp_path / "feed.jsonl", jsonl(
        {"id": "a", "text": "One."}, "{not json", {"id": "c", "text": "Three."}))
    articles, errors = load_file(path)
    assert [a.doc_id for a in articles] == ["a", "c"]
    assert len(errors) == 1 and errors[0].reason.startswith("malformed JSONL line 2: not JSON")


@pytest.mark.parametrize(
    ("record", "reason"),
    [({"text": "No id."}, "malformed JSONL line 1: missing 'id'"),
     ({"id": "a", "title": "No text"}, "malformed JSONL line 1: article 'a' has no 'text'"),
     (["a", "list"], "malformed JSONL line 1: expected a JSON object")],
    ids=["no-id", "no-text", "not-object"],
)
def test_jsonl_records_without_id_or_text(tmp_path: Path, record: object, reason: str) -> None:
    assert error_of(write(tmp_path / "feed.jsonl", jsonl(record))) == reason


def test_jsonl_text_with_a_unicode_line_separator(tmp_path: Path) -> None:
    line = json.dumps({"id": "a", "text": "Para one.\u2028Para two."}, ensure_ascii=False)
    articles, errors = load_file(write(tmp_path / "feed.jsonl", line + "\n"))
    assert errors == [] and [a.doc_id for a in articles] == ["a"]


# --- bad input -----------------------------------------------------------------------------------


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.txt")
    assert expand_paths([missing]) == ([], [LoadError(missing, "no such file or folder")])
    assert list(load_paths([missing])) == [([], [LoadError(missing, "no such file or folder")])]


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty file"),
     (b"  \n\t\n", "empty file"),
     (b"text\x00\x01\x02more", "binary file (contains NUL bytes), not text"),
     (b"Some text \x81\x8d\x8f\x90\x9d here. " * 3,
      "not UTF-8 and not decodable as Windows-1252 either")],
    ids=["empty", "whitespace", "binary", "undecodable"],
)
def test_unreadable_files(tmp_path: Path, content: bytes, reason: str) -> None:
    path = write(tmp_path / "bad.txt", content)
    assert read_text(path) == ("", reason)
    assert error_of(path) == reason


def test_windows_1252_text_is_decoded(tmp_path: Path) -> None:
    path = write(tmp_path / "old.txt", b"Caf\xe9 \x93quoted\x94 text.")
    assert read_text(path) == ("Café “quoted” text.", "")


def test_unsupported_file_named_directly(tmp_path: Path) -> None:
    path = write(tmp_path / "paper.pdf", b"%PDF-1.4")
    assert error_of(path) == ("unsupported file type .pdf; expected one of "
                              ".txt, .md, .html, .htm, .jsonl")


def test_folders_are_walked_skipping_hidden_and_unsupported_files(tmp_path: Path) -> None:
    for name in ["a.txt", "sub/deep/b.md", "sub/c.HTML", "paper.pdf", "notes.docx",
                 ".hidden.txt", ".git/d.txt", "sub/.cache/e.txt"]:
        write(tmp_path / name, "Some text.")
    files, errors = expand_paths([str(tmp_path)])
    assert errors == []
    assert files == [tmp_path / "a.txt", tmp_path / "sub/c.HTML", tmp_path / "sub/deep/b.md"]
    loaded = list(load_paths([str(tmp_path)]))
    assert sum(len(articles) for articles, _ in loaded) == 3
    assert all(errors == [] for _, errors in loaded)


# --- doc ids -------------------------------------------------------------------------------------


def test_doc_ids_are_stable_across_relative_paths(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "a" / "story.txt", "A story.")
    monkeypatch.chdir(tmp_path)
    ids = {one(Path(p)).doc_id for p in [str(path), "a/story.txt", "a/../a/story.txt"]}
    monkeypatch.chdir(tmp_path / "a")
    ids.add(one(Path("story.txt")).doc_id)
    assert len(ids) == 1 and ids.pop().startswith("story-")


def test_same_name_in_different_folders_gets_different_ids(tmp_path: Path) -> None:
    first = write(tmp_path / "a" / "story.txt", "Same text.")
    second = write(tmp_path / "b" / "story.txt", "Same text.")
    assert file_doc_id(first) != file_doc_id(second)
    assert one(first).doc_id != one(second).doc_id


# --- hostile input: regressions (see tests/index/test_properties.py) ---------------------------


def test_an_upload_name_with_a_lone_surrogate_loads() -> None:
    articles, errors = load_upload("bad\ud800name.txt", b"Some text here.")
    assert errors == [] and articles[0].source == "upload:bad\ufffdname.txt"
    assert articles[0].doc_id.startswith("upload-bad-name-")


def test_jsonl_lone_surrogate_escapes_become_replacement_characters(tmp_path: Path) -> None:
    line = '{"id": "a\\ud800", "title": "T\\udc00", "author": "\\ud83d", "text": "Body \\ud800."}'
    articles, errors = load_file(write(tmp_path / "feed.jsonl", line + "\n"))
    assert errors == []
    assert (articles[0].doc_id, articles[0].title, articles[0].author, articles[0].text) == (
        "a\ufffd", "T\ufffd", "\ufffd", "Body \ufffd.")


@pytest.mark.parametrize("content", ["\u2028\n", "\u00a0\n\u3000\n"], ids=["u2028", "nbsp"])
def test_jsonl_of_only_unicode_blank_lines_says_so(tmp_path: Path, content: str) -> None:
    assert error_of(write(tmp_path / "feed.jsonl", content)) == "no JSONL records, only blank lines"


@pytest.mark.parametrize(
    ("line", "reason"),
    [('{"id": ' + "1" * 5000 + ', "text": "T."}',
      "not JSON we can read (Exceeds the limit (4300 digits) for integer string conversion)"),
     ("[" * 100_000 + "]" * 100_000, "not JSON we can read (nested too deeply)"),
     ('{"id": true, "text": "T."}', "missing 'id'")],
    ids=["huge-number", "deep-nesting", "boolean-id"],
)
def test_jsonl_lines_json_cannot_read_are_errors(tmp_path: Path, line: str, reason: str) -> None:
    path = write(tmp_path / "feed.jsonl", jsonl(line, {"id": "ok", "text": "Fine."}))
    articles, errors = load_file(path)
    assert [a.doc_id for a in articles] == ["ok"]
    assert [e.reason for e in errors] == [f"malformed JSONL line 1: {reason}"]


@pytest.mark.parametrize(
    ("line", "reason"),
    [('{"id": "a", "te', "Unterminated string starting at column 13"),
     ('{"id": "a\x01"}', "Invalid control character at column 10")],
    ids=["unterminated", "control-character"],
)
def test_jsonl_error_messages_read_well(tmp_path: Path, line: str, reason: str) -> None:
    assert error_of(write(tmp_path / "feed.jsonl", line + "\n")) == (  # was "starting at at"
        f"malformed JSONL line 1: not JSON ({reason})")


def test_a_file_name_that_is_not_utf8_loads(tmp_path: Path) -> None:
    path = write(tmp_path / os.fsdecode(b"caf\xe9.txt"), "Some text here.")
    loaded = list(load_paths([str(tmp_path)]))
    assert [errors for _, errors in loaded] == [[]]
    article = loaded[0][0][0]
    assert article.doc_id == file_doc_id(path) and article.doc_id.startswith("caf-")
    assert article.source == f"{tmp_path.name}/caf\ufffd.txt"
    assert article.source.encode() and article.doc_id.encode()


def test_a_path_too_long_is_an_error_not_a_crash() -> None:
    name = "a" * 5000
    assert expand_paths([name]) == ([], [LoadError(name, "cannot be read (File name too long)")])


ARCHIVE = "an archive, not an article: archives are not unpacked; extract it and add the files"


def archive_bytes() -> dict[str, bytes]:
    zipped, tarred = io.BytesIO(), io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("inner.txt", "Inner text.")
    with tarfile.open(fileobj=tarred, mode="w") as t:
        info = tarfile.TarInfo("inner.txt")
        info.size = 11
        t.addfile(info, io.BytesIO(b"Inner text."))
    return {"zip": zipped.getvalue(), "tar": tarred.getvalue(),
            "gzip": gzip.compress(b"Inner text.")}


@pytest.mark.parametrize(
    ("name", "kind"),
    [("notes.zip", "zip"), ("notes.tar.gz", "gzip"), ("notes.gz", "gzip"), ("notes.tar", "tar"),
     ("disguised.txt", "zip"), ("disguised.jsonl", "gzip"), ("disguised.html", "tar")],
)
def test_archives_are_rejected_never_unpacked(tmp_path: Path, name: str, kind: str) -> None:
    path = write(tmp_path / name, archive_bytes()[kind])
    assert error_of(path) == ARCHIVE
    assert load_upload(name, archive_bytes()[kind]) == ([], [LoadError(f"upload:{name}", ARCHIVE)])


def test_text_that_mentions_ustar_is_not_an_archive() -> None:
    raw = b"x" * 257 + b"ustard pie. " * 3
    assert load_upload("pie.txt", raw)[1] == []


# HTML that took minutes: each <p>, <br> and dropped tag was an edit of the tree (quadratic).
@pytest.mark.parametrize("html", ["<p>x</p>" * 20_000, "<div>" * 20_000 + "Deep text."],
                         ids=["paragraphs", "nested"])
def test_large_html_loads_in_linear_time(html: str) -> None:
    articles, errors = load_upload("page.html", html.encode())
    assert errors == [] and articles[0].text
    small = html[: len(html) // 8]  # linear: 8x the input, about 8x the time; it was ~60x
    ratio = slower(lambda: load_upload("page.html", html.encode()),
                   lambda: load_upload("page.html", small.encode()))
    assert ratio < 30, ratio


def test_html_root_skips_articles_inside_dropped_tags_and_comments() -> None:
    html = ("<body><nav><article>NAV TEXT</article></nav><!-- COMMENT --><article>Line one<br>"
            "line two<p>Para.</p><![CDATA[cdata]]></article></body>")
    articles, _ = load_upload("page.html", html.encode())
    assert articles[0].text == "Line one line two\n\nPara."


# --- issue 21: what is stored is bounded and plain ------------------------------------------------


def test_a_folder_s_files_are_stored_by_their_path_from_it(tmp_path: Path) -> None:
    # finding 12: absolute server paths were shown to anyone in /api/documents and the sources
    nested = write(tmp_path / "data" / "samples" / "sub" / "x.txt", "Some text here.")
    loaded = [a for articles, _ in load_paths([str(tmp_path / "data" / "samples")])
              for a in articles]
    assert [a.source for a in loaded] == ["samples/sub/x.txt"]
    assert loaded[0].doc_id == file_doc_id(nested)  # ids still hash the absolute path
    direct = [a for articles, _ in load_paths([str(nested)]) for a in articles]
    assert [(a.source, a.doc_id) for a in direct] == [("x.txt", file_doc_id(nested))]


HOSTILE_TITLES = [
    ("Fine\n\n![p](http://127.0.0.1:9/x.png)", "Fine ![p](http://127.0.0.1:9/x.png)"),
    ("a\r\nb\tc\x00d\x7fe\x85f", "a b c d e f"),
    ("left\u2028right\u2029end", "left right end"),
    ("zero\u200bwidth\u200d \u202eevil\u202c\u2066x\u2069 \ufeffbom", "zero width evil x bom"),
    ("  lots   of\u00a0\u00a0 space  ", "lots of space"),
]


@pytest.mark.parametrize(("raw", "shown"), HOSTILE_TITLES)
def test_metadata_is_one_line_of_plain_text(tmp_path: Path, raw: str, shown: str) -> None:
    # finding 2: a blank line in a title ended the citations' HTML block; the rest was Markdown
    record = {"id": "a", "text": "Text.", "title": raw, "author": raw, "date": raw}
    articles, errors = load_file(write(tmp_path / "feed.jsonl", jsonl(record)))
    assert errors == []
    assert (articles[0].title, articles[0].author, articles[0].date) == (shown, shown, shown)


def test_every_invisible_or_control_character_folds() -> None:
    import sys
    import unicodedata
    odd = [chr(i) for i in range(sys.maxunicode + 1)
           if unicodedata.category(chr(i)) in ("Cc", "Cf", "Zs", "Zl", "Zp")]
    assert [c for c in odd if one_line(f"a{c}b", 10) != "a b"] == []


def test_metadata_is_capped(tmp_path: Path) -> None:
    # finding 3: a 2 MB title was copied into every chunk's metadata (a 19.4 MB answer at k=10)
    record = {"id": "a", "text": "Text.", "title": "word " * 400_000, "author": "x" * 10_000,
              "url": "https://example.org/" + "p" * 5_000}
    article = load_file(write(tmp_path / "feed.jsonl", jsonl(record)))[0][0]
    assert len(article.title) == MAX_TITLE_CHARS and article.title.endswith("word…")
    assert len(article.author) == MAX_AUTHOR_CHARS
    assert article.source == "feed.jsonl#a"  # a URL that long isn't kept
    html = write(tmp_path / "page.html", f"<title>{'Long title ' * 10_000}</title><p>Body.</p>")
    assert len(one(html).title) == MAX_TITLE_CHARS


@pytest.mark.parametrize("url", ["javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,x",
                                 "file:///etc/passwd", "//evil.example/x", "ftp://example.org/",
                                 "http://x\n\n![p](http://127.0.0.1:9/x.png)", "http://a b",
                                 "https://example.org/\u202egnp.exe", 'http://x/"onmouseover=1',
                                 "http://", "evil.example"])
def test_only_http_urls_are_kept(tmp_path: Path, url: str) -> None:
    # finding 2: a url is http(s) only; anything else is dropped, the source falls back
    assert web_url(url) == ""
    article = load_file(write(tmp_path / "feed.jsonl", jsonl({"id": "a", "text": "T.",
                                                               "url": url})))[0][0]
    assert article.source == "feed.jsonl#a"


@pytest.mark.parametrize("url", ["http://example.org", "HTTPS://Example.org/a/b?c=d&e=f#g",
                                 "https://en.wikipedia.org/wiki/O'Brien_(name)"])
def test_web_urls_are_kept(url: str) -> None:
    assert web_url(f"  {url} ") == url


@pytest.mark.parametrize(("doc_id", "reason"), [
    ("a\nb", "holds a line break"), ("a\tb", "holds a line break"), ("a\x00b", "holds"),
    ("a\u2028b", "holds"), ("a\u202eb", "holds"), ("x" * (MAX_ID_CHARS + 1), "the limit is 200")])
def test_bad_article_ids_are_refused(tmp_path: Path, doc_id: str, reason: str) -> None:
    # finding 8: ids are validated when stored: one line of printable text, 200 characters
    path = write(tmp_path / "feed.jsonl", jsonl({"id": doc_id, "text": "T."},
                                                {"id": "ok", "text": "T."}))
    articles, errors = load_file(path)
    assert [a.doc_id for a in articles] == ["ok"]
    assert len(errors) == 1 and errors[0].reason.startswith("malformed JSONL line 1: 'id'")
    assert reason in errors[0].reason and len(errors[0].reason) < 300


@pytest.mark.parametrize("doc_id", ["evil/../x", "a b", "x" * MAX_ID_CHARS, "caf\u00e9-\u65e5"])
def test_ids_with_slashes_and_spaces_are_kept(tmp_path: Path, doc_id: str) -> None:
    articles, errors = load_file(write(tmp_path / "feed.jsonl", jsonl({"id": doc_id,
                                                                       "text": "T."})))
    assert errors == [] and [a.doc_id for a in articles] == [doc_id]


@pytest.mark.parametrize(("name", "body"), [
    ("big.txt", "word " * (MAX_ARTICLE_CHARS // 5 + 100)),
    ("big.html", "<p>word</p>" * (MAX_ARTICLE_CHARS // 11 + 100)),
    ("big.jsonl", json.dumps({"id": "big", "text": "word " * (MAX_ARTICLE_CHARS // 5 + 100)})),
])
def test_an_article_over_the_limit_is_cut_and_says_so(name: str, body: str) -> None:
    # finding 10: the work of one article is bounded, and the uploader is told
    articles, notes = load_upload(name, body.encode())
    assert len(articles) == 1 and len(articles[0].text) <= MAX_ARTICLE_CHARS
    assert len(notes) == 1 and not notes[0].skipped
    assert f"only the first {MAX_ARTICLE_CHARS:,} of its" in notes[0].reason


def test_html_metadata_is_found_in_one_walk() -> None:
    # finding 10: 1.6 MB of <p>a</p> took 15 s, 4 s of it searching the page once per field
    page = '<meta property="author" content="Ann">' + "<p>a</p>" * 40_000
    head = ('<html><head><title>T</title><meta name="date" content="2011-02-03">'
            '<meta property="author" content="Ann"></head><body><p>a</p>' + "<br>" * 40_000)
    assert load_upload("x.html", page.encode())[0][0].author == "Ann"
    assert slower(lambda: load_upload("x.html", page.encode()),
                  lambda: load_upload("x.html", head.encode())) < 4  # was 9x
