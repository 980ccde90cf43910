"""One answering service over one store, shared by the CLI, the HTTP API and the chat.

It loads the embedding model once, keeps the BM25 corpus in step with the store, turns follow-ups
into standalone queries, streams answers as events and adds or removes articles. It does not format
answers for any surface.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from index.add import AddReport, add_loaded
from index.embed import MODEL_NAME, Embedder, load_embedder
from index.load import load_upload
from index.store import Store, StoredArticle, open_store
from qa.answer import answer
from qa.condense import standalone
from qa.errors import BadQuestion, EmptyStore, NotFound
from qa.retrieve import Corpus, Filters, hybrid_retriever, load_corpus
from qa.types import Answer, Event


@dataclass
class Service:
    store: Store
    embedder: Embedder
    k: int = 5
    max_question_chars: int = 2000
    _corpus: Corpus | None = field(default=None, repr=False)
    _corpus_version: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(cls, path: str | None, url: str | None, settings: dict[str, Any],
             must_exist: bool = True) -> Service:
        """The service over the store at `path` (or the server at `url`); the server creates a
        missing folder (`must_exist=False`) so articles can be uploaded into it."""
        if must_exist and not url and not Path(path or "./store").is_dir():
            raise EmptyStore(f"There is no store at {path}: add articles with "
                             "`python -m index add PATH --store DIR` first")
        store = open_store(path, url, MODEL_NAME)
        return cls(store, load_embedder(settings["QA_EMBED_BATCH"]), settings["QA_K"],
                   settings["QA_MAX_QUESTION_CHARS"])

    def corpus(self) -> Corpus:
        """The BM25 corpus, rebuilt whenever the stored articles have changed."""
        with self._lock:
            version = self.store.version()
            if self._corpus is None or version != self._corpus_version:
                self._corpus, self._corpus_version = load_corpus(self.store), version
            return self._corpus

    def ask(self, question: str, k: int | None = None, filters: Filters = Filters(),
            history: Sequence[Any] = ()) -> Answer:
        """Answer `question`; with `history` (earlier turns) a follow-up is searched standalone."""
        question = check_question(question, self.max_question_chars)
        filters.bounds()  # a bad date fails here, before any work
        corpus = self.corpus()
        if corpus.empty:
            raise EmptyStore(f"The store at {self.store.location} has no articles yet: "
                             "add some with `python -m index add PATH` or upload them")
        query = standalone(question, history)
        retriever = hybrid_retriever(self.store, corpus, self.embedder, k or self.k, filters)
        result = answer(query, retriever, self.embedder, corpus.bm25.idf)
        return replace(result, question=question, query=query)

    def stream(self, question: str, k: int | None = None, filters: Filters = Filters(),
               history: Sequence[Any] = ()) -> Iterator[Event]:
        """The answer as events: its text in `token`s, each `citation`, then `done`.

        Bad input raises at the first `next()`, before any event."""
        result = self.ask(question, k, filters, history)
        for token in re.findall(r"\S+\s*", result.answer):
            yield Event("token", token)
        for citation in result.citations:
            yield Event("citation", citation)
        yield Event("done", result)

    def documents(self) -> list[StoredArticle]:
        return self.store.list_articles()

    def add_uploads(self, files: Sequence[tuple[str, bytes]],
                    on_chunks: Callable[[int], None] = lambda n: None) -> AddReport:
        """Index uploaded files (name, bytes); names only label the articles, never paths."""
        loaded = (load_upload(name, raw) for name, raw in files)
        return add_loaded(loaded, self.store, self.embedder, on_chunks=on_chunks)

    def remove(self, doc_id: str) -> None:
        if not self.store.remove(doc_id):
            raise NotFound(f"No article with id {doc_id!r} is stored")

    def health(self) -> dict[str, Any]:
        articles, chunks = self.store.count()
        return {"status": "ok", "articles": articles, "chunks": chunks, "model": MODEL_NAME,
                "store": self.store.location}


def check_question(question: str, max_chars: int) -> str:
    """The question with its whitespace collapsed; BadQuestion if empty or too long."""
    question = " ".join(question.split())
    if not question:
        raise BadQuestion("The question is empty: type a question about the articles")
    if len(question) > max_chars:
        raise BadQuestion(f"The question is {len(question)} characters long; "
                          f"the limit is {max_chars}")
    return question
