"""Cut an article into sentence-aligned chunks that fit the embedding model's window.

Every chunk is an exact slice of the article text (`text[start:end]`), chunks don't overlap, and
with the title prepended a chunk stays within the model's window: a sentence too long for the
window is cut between words, never truncated. A chunk is also at most MAX_CHUNK_CHARS long, as
counted in characters: a run of characters the tokenizer counts as one unknown token (or as none)
is cut by length, so no chunk, and no answer quoting one, is megabytes long. It does not embed.

No overlap: the one-sentence overlap of CHUNKER_VERSION 2 cost 7% more word pieces to embed on
squad2 and 16% on covidqa, for recall@5 within 0.7 points either way (docs/benchmarks.md).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from index.sentences import split_sentences
from index.types import Article, Chunk

TokenCounter = Callable[[list[str]], list[int]]
Piece = tuple[int, int, int]  # start, end, tokens
CHUNKER_VERSION = "5"  # bump when chunking changes, so stored articles are re-chunked
MAX_TITLE_TOKENS = 32
SPECIAL_TOKENS = 2  # [CLS] and [SEP]
# WordPiece reads a "word" of more than 100 characters as one [UNK] token, so a text without spaces
# would count as one token however long it is: such runs are cut into parts of this many characters.
LONG_WORD = 100
# The most characters in a chunk: 254 word pieces of ordinary prose are about 1,200 characters
# (160, the target, about 800), so only text of unknown or deleted tokens meets this cap.
MAX_CHUNK_CHARS = 2_000


def chunk_article(
    article: Article,
    count_tokens: TokenCounter,
    max_tokens: int = 256,
    target_tokens: int = 160,
) -> list[Chunk]:
    """Chunks of about `target_tokens`, never over `max_tokens` with the title prepended."""
    title = fit_title(article.title, count_tokens)
    budget = max_tokens - SPECIAL_TOKENS - (count_tokens([title + "\n\n"])[0] if title else 0)
    size = min(target_tokens, budget)
    pieces = sentence_pieces(article.text, count_tokens, size)
    groups = pack(pieces, size)
    return [_make_chunk(article, title, i, pieces[a][0], pieces[b - 1][1])
            for i, (a, b) in enumerate(groups)]


def fit_title(title: str, count_tokens: TokenCounter) -> str:
    """The title, cut between words to at most MAX_TITLE_TOKENS."""
    words = title.split()
    while words and count_tokens([" ".join(words)])[0] > MAX_TITLE_TOKENS:
        words = words[: len(words) * 3 // 4]
    return " ".join(words)


def sentence_pieces(text: str, count_tokens: TokenCounter, size: int) -> list[Piece]:
    """Each sentence with its token count; a sentence over `size` tokens or MAX_CHUNK_CHARS
    characters is cut between words."""
    spans = split_sentences(text)
    counts = count_tokens([text[a:b] for a, b in spans]) if spans else []
    pieces: list[Piece] = []
    for (start, end), tokens in zip(spans, counts, strict=True):
        if tokens <= size and end - start <= MAX_CHUNK_CHARS:
            pieces.append((start, end, tokens))
        else:
            pieces += pack_words(text, start, end, count_tokens, size)
    return pieces


def pack_words(
    text: str, start: int, end: int, count_tokens: TokenCounter, size: int
) -> list[Piece]:
    """Cut text[start:end] between words into pieces of at most `size` tokens and at most
    MAX_CHUNK_CHARS characters. The parts of a word are never glued (joined, they may count
    differently), but those the model reads as one unknown token each: 100 such characters
    or 2,000 are one [UNK] alike, and a 2 MB "word" is then 1,000 chunks, not 20,000."""
    pieces: list[Piece] = []
    first, last, total, unknown = start, start, 0, True
    for a, b, tokens in word_pieces(text, start, end, count_tokens, size):
        blank = tokens == 1 and b - a == LONG_WORD  # a whole part of one [UNK] word
        split = a == last and not (unknown and blank)
        if last > first and (total + tokens > size or split or b - first > MAX_CHUNK_CHARS):
            pieces.append((first, last, total))
            first, total, unknown = a, 0, True
        last, total, unknown = b, total + tokens, unknown and blank
    pieces.append((first, last, total))
    return pieces


def word_pieces(
    text: str, start: int, end: int, count_tokens: TokenCounter, size: int
) -> list[Piece]:
    """Each word of text[start:end]; a word over `size` tokens is halved until each part fits
    (a character can be several word pieces: Hangul syllables are split into letters)."""
    todo = [part for m in re.finditer(r"\S+", text[start:end])
            for part in _parts(start + m.start(), start + m.end())]
    pieces: list[Piece] = []
    while todo:
        halves: list[tuple[int, int]] = []
        for (a, b), count in zip(todo, count_tokens([text[a:b] for a, b in todo]), strict=True):
            if count <= size or b - a == 1:
                pieces.append((a, b, count))
            else:
                halves += [(a, (a + b) // 2), ((a + b) // 2, b)]
        todo = halves
    return sorted(pieces)


def _parts(a: int, b: int) -> list[tuple[int, int]]:
    """(a, b) cut into spans of at most LONG_WORD characters."""
    return [(i, min(i + LONG_WORD, b)) for i in range(a, b, LONG_WORD)]


def pack(pieces: list[Piece], size: int) -> list[tuple[int, int]]:
    """Group consecutive pieces up to `size` tokens and MAX_CHUNK_CHARS characters, as
    (first, end) piece indices."""
    groups: list[tuple[int, int]] = []
    i = 0
    while i < len(pieces):
        j, total = i + 1, pieces[i][2]
        while (j < len(pieces) and _apart(pieces, j) and total + pieces[j][2] <= size
               and pieces[j][1] - pieces[i][0] <= MAX_CHUNK_CHARS):
            total += pieces[j][2]
            j += 1
        groups.append((i, j))
        i = j
    return groups


def _apart(pieces: list[Piece], j: int) -> bool:
    """Whether space separates piece j from the one before: only then do their token counts add
    up (two parts of one word can tokenize differently once joined)."""
    return pieces[j][0] > pieces[j - 1][1]


def _make_chunk(article: Article, title: str, index: int, start: int, end: int) -> Chunk:
    text = article.text[start:end]
    key = f"{article.doc_id}\x1f{start}\x1f{end}\x1f{text}".encode()
    chunk_id = f"{article.doc_id}:{hashlib.sha1(key).hexdigest()[:16]}"
    embed_text = f"{title}\n\n{text}" if title else text
    return Chunk(chunk_id, article.doc_id, index, start, end, text, embed_text)


def content_hash(article: Article, model_sha: str) -> str:
    """Changes when anything that goes into the stored chunks changes."""
    parts = (CHUNKER_VERSION, model_sha, article.title, article.source, article.date,
             article.author, article.text)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
