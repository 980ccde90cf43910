"""One answering service over one store, shared by the CLI (and later the API and the chat).

It loads the embedding model once and keeps the BM25 corpus in step with the store. It does not
format answers for any surface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.embed import MODEL_NAME, Embedder, load_embedder
from index.store import Store, open_store
from qa.answer import answer
from qa.errors import BadQuestion, EmptyStore
from qa.retrieve import Corpus, Filters, hybrid_retriever, load_corpus
from qa.types import Answer


@dataclass
class Service:
    store: Store
    embedder: Embedder
    k: int = 5
    max_question_chars: int = 2000
    _corpus: Corpus | None = field(default=None, repr=False)
    _corpus_version: str = ""

    @classmethod
    def open(cls, path: str | None, url: str | None, settings: dict[str, Any]) -> Service:
        if not url and not Path(path or "./store").is_dir():
            raise EmptyStore(f"There is no store at {path}: add articles with "
                             "`python -m index add PATH --store DIR` first")
        store = open_store(path, url, MODEL_NAME)
        return cls(store, load_embedder(settings["QA_EMBED_BATCH"]), settings["QA_K"],
                   settings["QA_MAX_QUESTION_CHARS"])

    def corpus(self) -> Corpus:
        """The BM25 corpus, rebuilt whenever the stored articles have changed."""
        version = self.store.version()
        if self._corpus is None or version != self._corpus_version:
            self._corpus, self._corpus_version = load_corpus(self.store), version
        return self._corpus

    def ask(self, question: str, k: int | None = None, filters: Filters = Filters()) -> Answer:
        question = check_question(question, self.max_question_chars)
        filters.bounds()  # a bad date fails here, before any work
        corpus = self.corpus()
        if corpus.empty:
            raise EmptyStore(f"The store at {self.store.location} has no articles yet: "
                             "add some with `python -m index add PATH`")
        retriever = hybrid_retriever(self.store, corpus, self.embedder, k or self.k, filters)
        return answer(question, retriever, self.embedder, corpus.bm25.idf)


def check_question(question: str, max_chars: int) -> str:
    """The question with its whitespace collapsed; BadQuestion if empty or too long."""
    question = " ".join(question.split())
    if not question:
        raise BadQuestion("The question is empty: type a question about the articles")
    if len(question) > max_chars:
        raise BadQuestion(f"The question is {len(question)} characters long; "
                          f"the limit is {max_chars}")
    return question
