"""The `bm25-article` baseline of `python -m qa.measuring.eval`: whole articles ranked by BM25
(`qa.retrieve.Articles`), each passing on its best chunk by the chunks' own BM25, best article
first.

    passages = article_search("who won the 2023 Grammy for album of the year?", corpus, k=10)
"""

from __future__ import annotations

import numpy as np

from qa.retrieve import Corpus, to_passage
from qa.types import Passage


def article_search(query: str, corpus: Corpus, k: int) -> list[Passage]:
    chunk_scores = corpus.bm25.scores(query)
    found = []
    for article, score in corpus.articles.bm25.top(query, k):
        ids = corpus.articles.chunks[article]
        doc = corpus.documents[int(ids[int(np.argmax(chunk_scores[ids]))])]
        found.append(to_passage(doc, str(doc.id), score))
    return found
