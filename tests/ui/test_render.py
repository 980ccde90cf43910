"""The sources panel: cited passages with the cited span marked, the rest collapsed, all escaped."""

from __future__ import annotations

from qa.types import Answer, Citation, Passage
from ui.render import chat_text, inline_citations, searched_for, source_link, sources_html

TEXT = "First sentence here. The cited <b>sentence</b> & more. Last one."


def passage(chunk_id: str, text: str = TEXT, source: str = "/data/a.txt") -> Passage:
    return Passage("doc", chunk_id, "A <script>alert(1)</script> title", source, "2011-02-16",
                   text, 100, 100 + len(text), 0.5)


def citation(p: Passage, quote: str, n: int = 1) -> Citation:
    start = p.start + p.text.index(quote)
    return Citation(n, p.doc_id, p.chunk_id, p.title, p.source, p.date, quote, start,
                    start + len(quote), 0.7)


def test_cited_passages_come_first_with_the_cited_sentence_marked() -> None:
    cited, other = passage("c1"), passage("c2", "Another passage <img src=x onerror=alert(1)>.")
    quote = "The cited <b>sentence</b> & more."
    html = sources_html(Answer("q", "a [1]", True, (citation(cited, quote),), (other, cited)))
    assert html.index("Cited (1)") < html.index('data-chunk="c1"') < html.index("<details")
    assert html.index("<details") < html.index('data-chunk="c2"')
    assert "<mark>The cited &lt;b&gt;sentence&lt;/b&gt; &amp; more.</mark>" in html
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "[1]</span>" in html and "2011-02-16" in html and "a.txt" in html


def test_a_refusal_shows_the_nearest_passages_collapsed() -> None:
    html = sources_html(Answer("q", "The articles don't say.", False, (), (passage("c1"),)))
    assert "No passage answers" in html and "Nearest passages (1)" in html
    assert "<mark>" not in html


def test_only_web_sources_become_links() -> None:
    assert source_link("https://example.com/a?x=1&y=2") == (
        '<a href="https://example.com/a?x=1&amp;y=2" target="_blank" '
        'rel="noopener noreferrer">https://example.com/a?x=1&amp;y=2</a>')
    assert ">a.txt</span>" in source_link("/srv/articles/a.txt")
    assert ">notes.md</span>" in source_link("upload:notes.md")
    assert "<a" not in source_link("javascript:alert(1)")


def test_searched_for_only_when_the_query_differs() -> None:
    assert searched_for(Answer("q", "a", True, query="q")) == ""
    assert searched_for(Answer("and when?", "a", True, query="when? (x_y)")) == (
        "searched for: *when? \\(x\\_y\\)*")


def test_unverified_sentences_are_marked_in_the_chat() -> None:
    from qa.types import Checked, Generator

    sentences = (Checked("Zapata was shot.", (1,), True, 0.8),
                 Checked("He carried diamonds.", (1,), False, 0.3))
    answer = Answer("q", "Zapata was shot. [1] He carried diamonds. [1]", True, (), (), "q",
                    sentences, Generator("llamacpp", "tiny.gguf", "answer", "abc"))
    assert chat_text(answer) == ("Zapata was shot. [1] He carried diamonds. [1] "
                                 "⚠️ *(unverified)*")
    assert searched_for(answer) == "written by tiny\\.gguf, citations checked"
    verified = Answer("q", "Zapata was shot. [1]", True, (), (), "q", sentences[:1])
    assert chat_text(verified) == "Zapata was shot. [1]" and searched_for(verified) == ""


def test_an_answer_with_nothing_supported_is_still_marked() -> None:
    from qa.types import Checked

    sentences = (Checked("He carried diamonds.", (), False, 0.2),)
    answer = Answer("q", "He carried diamonds.", False, (), (), "q", sentences)
    assert chat_text(answer) == "He carried diamonds. ⚠️ *(unverified)*"
    refusal = Answer("q", "The articles don't say.", False, (), (), "q",
                     (Checked("The articles don't say.", (), False, 0.0),), reason="not_found")
    assert chat_text(refusal) == "The articles don't say."


def test_cited_cards_follow_the_markers_and_citations_list_under_the_answer() -> None:
    first, second = passage("c1"), passage("c2", "Other <i>text</i> cited here.")
    cites = (citation(second, "Other <i>text</i> cited here.", 1),
             citation(first, "The cited <b>sentence</b> & more.", 2))
    answer = Answer("q", "x [1] y [2]", True, cites, (first, second))  # retrieval order: c1, c2
    html = sources_html(answer)
    assert html.index('data-chunk="c2"') < html.index('data-chunk="c1"')  # [1] above [2]
    inline = inline_citations(answer)
    assert inline.index("[1] A &lt;script&gt;") < inline.index("[2]")
    assert "<q>Other &lt;i&gt;text&lt;/i&gt; cited here.</q>" in inline
    assert "<script>" not in inline and "<i>" not in inline and "\n" not in inline
    assert inline_citations(Answer("q", "The articles don't say.", False, (), (first,))) == ""


def test_the_short_answer_is_bold_in_the_chat() -> None:
    answer = Answer("Who was killed?", "Zapata was shot to death. [1]", True, (), (),
                    short="Zapata")
    assert chat_text(answer) == "**Zapata** was shot to death. [1]"
    odd = Answer("q", "A <b> tag. [1]", True, (), (), short="<b>")
    assert chat_text(odd) == "A **\\<b\\>** tag. [1]"
    assert chat_text(Answer("q", "No such span. [1]", True, (), (), short="x y")) == \
        "No such span. [1]"
