"""chunk_article with the real tokenizer: exact slices that fit the window and lose no text."""

from __future__ import annotations

from dataclasses import replace

import pytest

from index.chunk import LONG_WORD as LONG_WORD_CHARS
from index.chunk import MAX_CHUNK_CHARS, MAX_TITLE_TOKENS, chunk_article, content_hash
from index.clean import clean_text
from index.embed import MiniLMEmbeddings
from index.load import load_file
from index.sentences import split_sentences
from index.types import Article, Chunk
from tests.conftest import SAMPLES
from tests.fakes import FakeEmbedder

WINDOW = 256
LONG_SENTENCE = " ".join(f"word{i % 97}" for i in range(2000)) + "."
LONG_WORD = "-".join(["alpha", "beta", "gamma"] * 250)[:3000]  # ~1,200 word pieces, no spaces


def sample(name: str) -> Article:
    articles, errors = load_file(SAMPLES / name)
    assert not errors
    return articles[0]


ARTICLES = {
    "sample-000": lambda: sample("000_b1f5c98873b2f0c9.txt"),
    "sample-001": lambda: sample("001_6af38f333212537e.txt"),
    "synthetic": lambda: Article(
        "syn", "A synthetic article", f"Intro sentence here.\n\n{LONG_SENTENCE}\n\n{LONG_WORD}\n\n"
        f"{'x' * 3000}\n\nLast one.", "syn.txt"),
}


@pytest.fixture(params=list(ARTICLES))
def article(request: pytest.FixtureRequest) -> Article:
    return ARTICLES[request.param]()


def test_chunks_are_exact_slices_in_order(article: Article, embedder: MiniLMEmbeddings) -> None:
    chunks = chunk_article(article, embedder.count_tokens)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert article.text[c.start : c.end] == c.text and c.doc_id == article.doc_id
    for prev, nxt in zip(chunks, chunks[1:], strict=False):
        assert prev.start < nxt.start and prev.end < nxt.end


def test_chunks_fit_the_window_with_title_and_special_tokens(
    article: Article, embedder: MiniLMEmbeddings
) -> None:
    chunks = chunk_article(article, embedder.count_tokens)
    counts = embedder.count_tokens([c.embed_text for c in chunks])
    assert max(counts) + 2 <= WINDOW


def test_consecutive_chunks_do_not_overlap(article: Article, embedder: MiniLMEmbeddings) -> None:
    chunks = chunk_article(article, embedder.count_tokens)
    assert len(chunks) > 2
    assert all(prev.end <= nxt.start for prev, nxt in zip(chunks, chunks[1:], strict=False))


def test_chunks_cover_every_sentence(article: Article, embedder: MiniLMEmbeddings) -> None:
    text = article.text
    covered = bytearray(len(text))
    for c in chunk_article(article, embedder.count_tokens):
        covered[c.start : c.end] = b"\x01" * (c.end - c.start)
    lost = [i for a, b in split_sentences(text) for i in range(a, b)
            if not covered[i] and not text[i].isspace()]
    assert lost == []


def test_long_sentence_and_long_word_are_cut_not_truncated(embedder: MiniLMEmbeddings) -> None:
    article = ARTICLES["synthetic"]()
    chunks = chunk_article(article, embedder.count_tokens)
    for long in (LONG_SENTENCE, LONG_WORD):
        start = article.text.index(long)
        inside = [c for c in chunks if c.start < start + len(long) and c.end > start]
        assert len(inside) > 3
        assert inside[0].start <= start and inside[-1].end >= start + len(long)


def test_title_is_prepended_to_embed_text(embedder: MiniLMEmbeddings) -> None:
    article = sample("001_6af38f333212537e.txt")
    for c in chunk_article(article, embedder.count_tokens):
        assert c.embed_text == f"{article.title}\n\n{c.text}"


def test_a_long_title_is_cut_between_words(embedder: MiniLMEmbeddings) -> None:
    article = Article("t", "Very long title words " * 40, "Body text. More body.", "t.txt")
    chunks = chunk_article(article, embedder.count_tokens)
    title = chunks[0].embed_text.split("\n\n")[0]
    assert article.title.startswith(title) and title
    assert embedder.count_tokens([title])[0] <= MAX_TITLE_TOKENS


def ids(article: Article) -> list[str]:
    return [c.chunk_id for c in chunk_article(article, FakeEmbedder().count_tokens)]


def test_chunk_ids_are_stable_and_unique() -> None:
    article = sample("000_b1f5c98873b2f0c9.txt")
    assert ids(article) == ids(article)
    assert len(set(ids(article))) == len(ids(article))
    assert all(i.startswith(article.doc_id + ":") for i in ids(article))


def test_chunk_ids_change_when_the_text_changes() -> None:
    article = sample("000_b1f5c98873b2f0c9.txt")
    same_length = replace(article, text=article.text.replace("last week", "this week"))
    assert ids(same_length)[0] != ids(article)[0]
    assert ids(same_length)[1:] == ids(article)[1:]  # the other chunks are untouched
    longer = replace(article, text=article.text.replace("last week", "last two weeks"))
    assert not set(ids(longer)) & set(ids(article))  # every later offset moved


def test_content_hash_changes_with_title_or_text() -> None:
    article = sample("001_6af38f333212537e.txt")
    digest = content_hash(article, "sha")
    assert content_hash(replace(article), "sha") == digest
    assert content_hash(replace(article, title="Other"), "sha") != digest
    assert content_hash(replace(article, text=article.text + " More."), "sha") != digest
    assert content_hash(article, "other-model") != digest


def sentence(words: int, mark: str) -> str:
    return " ".join([mark] * (words - 1)) + "."  # `words` fake tokens with the period


def test_no_chunk_is_just_a_repeat_of_its_predecessor_tail() -> None:
    text = " ".join([sentence(100, "Aa"), sentence(40, "Bb"), sentence(150, "Cc")])
    chunks: list[Chunk] = chunk_article(Article("d", "", text, "d"), FakeEmbedder().count_tokens)
    for prev, nxt in zip(chunks, chunks[1:], strict=False):
        assert nxt.end > prev.end, f"chunk {nxt.index} adds nothing to chunk {prev.index}"


# --- hostile input (regressions found by tests/index/test_properties.py) -----------------------


@pytest.mark.parametrize(
    "text",
    ["한-" * 250,  # a Hangul syllable is up to 3 word pieces: cuts every 160 characters didn't fit
     clean_text("q\fsubsequently " * 300)],  # a form feed glues two words into six word pieces
    ids=["hangul", "form-feed"],
)
def test_many_pieces_per_character_still_fit_the_window(text: str,
                                                        embedder: MiniLMEmbeddings) -> None:
    article = Article("k", "A title", text, "k.txt")
    chunks = chunk_article(article, embedder.count_tokens)
    assert max(embedder.count_tokens([c.embed_text for c in chunks])) + 2 <= WINDOW
    assert chunks[0].start == 0 and chunks[-1].end == len(text)
    for prev, nxt in zip(chunks, chunks[1:], strict=False):
        assert not text[prev.end : nxt.start].strip()  # only spaces fall between two chunks


def test_text_without_spaces_is_cut_into_bounded_chunks(embedder: MiniLMEmbeddings) -> None:
    """WordPiece reads a run of over 100 characters as one [UNK]: such a run used to count as one
    token and become one chunk however long (a 19 MB file, one 19 MB chunk)."""
    text = ("x" * 150_000) + " " + ("Ab1-" * 50_000)
    chunks = chunk_article(Article("nospace", "", text, "nospace.txt"), embedder.count_tokens)
    assert "".join(c.text for c in chunks).replace(" ", "") == text.replace(" ", "")
    assert max(len(c.text) for c in chunks) <= 2 * LONG_WORD_CHARS + 1  # two parts and a space
    counts = embedder.count_tokens([c.embed_text for c in chunks])
    assert max(counts) + 2 <= WINDOW


# --- issue 21, finding 3: chunks are bounded in characters too ------------------------------------

UNKNOWN = [
    ("a 5 MB word", "x" * 200_000),  # WordPiece: one [UNK] however long
    ("unknown words", " ".join("q" * 150 for _ in range(2_000))),  # [UNK] each, 300 KB
    ("zero-width", "Start. " + "\u200b" * 100_000 + " End."),  # the tokenizer drops them all
    ("long sentence of unknowns", "Lead. " + " ".join("z" * 101 for _ in range(100)) + ". Tail."),
]


@pytest.mark.parametrize(("name", "text"), UNKNOWN, ids=[n for n, _ in UNKNOWN])
def test_text_of_unknown_tokens_is_cut_by_length(name: str, text: str,
                                                 embedder: MiniLMEmbeddings) -> None:
    article = Article("big", "Title", text, "big.txt")
    chunks = chunk_article(article, embedder.count_tokens)
    assert chunks and max(len(c.text) for c in chunks) <= MAX_CHUNK_CHARS
    assert all(c.text == text[c.start : c.end] for c in chunks)
    covered = "".join(text[c.start : c.end] for c in chunks)
    assert "".join(covered.split()) == "".join(text.split())  # nothing lost


def test_chunks_of_ordinary_text_are_unchanged_by_the_cap(embedder: MiniLMEmbeddings) -> None:
    article = sample("001_6af38f333212537e.txt")
    assert max(len(c.text) for c in chunk_article(article, embedder.count_tokens)) < 1_000


def test_a_word_of_unknown_characters_is_cut_in_chunks_of_the_cap(
        embedder: MiniLMEmbeddings) -> None:
    # the model reads 100 or 2,000 such characters as one [UNK]: 2 MB is 1,000 chunks, not 20,000
    text = "\u02ac" * 20 * MAX_CHUNK_CHARS
    chunks = chunk_article(Article("w", "Title", text, "w.txt"), embedder.count_tokens)
    assert [len(c.text) for c in chunks] == [MAX_CHUNK_CHARS] * 20
    assert max(embedder.count_tokens([c.embed_text for c in chunks])) < 10
