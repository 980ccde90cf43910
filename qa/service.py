"""One answering service over one store, shared by the CLI, the HTTP API and the chat.

It loads the embedding model once, keeps the BM25 corpus in step with the store, turns follow-ups
into standalone queries, streams answers as events and adds or removes articles. It does not format
answers for any surface.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.add import AddReport, add_loaded
from index.embed import MODEL_NAME, Embedder, load_embedder
from index.load import load_upload
from index.store import Store, StoredArticle, open_store
from qa.answerers import Needs, answerer
from qa.answerers.generative import condense_with_llm
from qa.condense import standalone, user_turns
from qa.embed_cache import CachedEmbeddings
from qa.errors import BadQuestion, Budget, Cancelled, EmptyStore, NotFound
from qa.llm import Backend, chat_model
from qa.retrieve import (
    Corpus,
    FilterError,
    Filters,
    load_corpus,
    matching_articles,
    search,
    vector_store,
)
from qa.settings import Settings
from qa.types import Answer, Event, Passage


@dataclass
class Service:
    store: Store
    embedder: Embedder
    k: int = 5
    max_question_chars: int = 2000
    backend: Backend = Backend()
    llm: Any = field(default=None, repr=False)  # the backend's LangChain chat model (None: none)
    max_history_turns: int = 50
    answer_seconds: float = 10.0  # each answer's time budget (QA_ANSWER_SECONDS)
    max_k: int = 20
    _corpus: Corpus | None = field(default=None, repr=False)
    _corpus_version: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _rebuild: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _vectors: Any = field(default=None, repr=False)
    sentences: CachedEmbeddings = field(init=False, repr=False)  # the answerer's embeddings

    def __post_init__(self) -> None:
        self.sentences = CachedEmbeddings(self.embedder)

    @classmethod
    def open(cls, path: str | None, url: str | None, settings: Settings,
             must_exist: bool = True) -> Service:
        """The service over the store at `path` (or the server at `url`); the server creates a
        missing folder (`must_exist=False`) so articles can be uploaded into it."""
        if must_exist and not url and not Path(path or "./store").is_dir():
            raise EmptyStore(f"There is no store at {path}: add articles with "
                             "`python -m index add PATH --store DIR` first")
        backend = backend_from(settings)
        llm = chat_model(backend)
        store = open_store(path, url, MODEL_NAME)
        return cls(store, load_embedder(settings.embed_batch,
                                        precision=settings.embed_precision), settings.k,
                   settings.max_question_chars, backend, llm,
                   settings.max_history_turns, settings.answer_seconds, settings.max_k)

    def corpus(self) -> Corpus:
        """The BM25 corpus, rebuilt whenever the stored articles have changed. One question
        rebuilds it (seconds on a large store); those asked meanwhile use the previous one rather
        than wait, so questions keep being answered while articles are added."""
        version = self.store.version()
        with self._lock:
            known = self._corpus
            if known is not None and version == self._corpus_version:
                return known
        if known is not None and not self._rebuild.acquire(blocking=False):
            return known  # another question is rebuilding it
        if known is None:
            self._rebuild.acquire()  # nothing to answer from yet: wait for the first build
        try:
            return self._rebuilt(version)
        finally:
            self._rebuild.release()

    def _rebuilt(self, version: str) -> Corpus:
        """The corpus of `version`, loaded unless the thread that held the rebuild lock just did."""
        with self._lock:
            if self._corpus is not None and version == self._corpus_version:
                return self._corpus
        corpus = load_corpus(self.store)
        with self._lock:
            self._corpus, self._corpus_version = corpus, version
        return corpus

    def ask(self, question: str, k: int | None = None, filters: Filters = Filters(),
            history: Sequence[Any] = ()) -> Answer:
        """Answer `question`; with `history` (earlier turns) a follow-up is searched standalone."""
        *_, done = self.stream(question, k, filters, history)
        return done.data

    def stream(self, question: str, k: int | None = None, filters: Filters = Filters(),
               history: Sequence[Any] = ()) -> Iterator[Event]:
        """The answer as events: its text in `token`s, each `citation`, then `done`.

        Answering, in order: check the input, condense the question into a standalone query,
        retrieve its passages, answer from them. Bad input, an empty store or filters matching
        nothing raise here, before any event is made: callers need not start the stream to find
        out. The answer has `answer_seconds` from here; past them it stops with TooSlow."""
        budget = Budget(self.answer_seconds)
        question = check_question(question, self.max_question_chars)
        k = check_k(k, self.k, self.max_k)
        check_history(history, self.max_history_turns, self.max_question_chars)
        check_filters(filters)  # a bad date or source fails here, before any work
        corpus = self.corpus()
        if corpus.empty:
            raise EmptyStore("The store has no articles yet: "
                             "add some with `python -m index add PATH` or upload them")
        query = self.condense(question, history)
        passages = search(query, corpus, self.vectors(), k, filters)
        if not passages and filters != Filters():  # only then: listing the articles costs
            self.check_matches(filters)
        budget.check()
        return self.events(question, query, passages, corpus, budget)

    def condense(self, question: str, history: Sequence[Any]) -> str:
        """The standalone query: the rule's, or the LLM's rewrite of a follow-up."""
        if self.llm is None:
            return standalone(question, history)
        return condense_with_llm(question, history, self.llm)

    def check_matches(self, filters: Filters) -> None:
        """FilterError when `filters` let no stored article through (rather than a refusal that
        reads as if the articles didn't answer)."""
        if not matching_articles(filters, self.documents()):
            raise FilterError(f"No stored article matches these filters ({describe(filters)}): "
                              "a source is an article's doc id, its path as listed, or its URL")

    def events(self, question: str, query: str, passages: list[Passage],
               corpus: Corpus, budget: Budget) -> Iterator[Event]:
        """The answer from the passages by the answerer the backend names (`qa.answerers`): the
        extractive reader's, whole; or an LLM's, token by token, checked against them."""
        needs = Needs(self.sentences, corpus.bm25.idf, self.backend, self.llm, budget)
        return answerer(self.backend.kind, needs).answer(question, query, passages)

    def retrieve(self, query: str, k: int | None = None,
                 filters: Filters = Filters()) -> list[Passage]:
        """The top `k` passages for `query` (hybrid, filtered): `k` and filters per call."""
        return search(query, self.corpus(), self.vectors(), check_k(k, self.k, self.max_k),
                      filters)

    def vectors(self) -> Any:
        """The store's chunks as one langchain-chroma wrapper, made once (it asks Chroma for the
        collection: more than a question's retrieval costs) and shared by every question."""
        with self._lock:
            if self._vectors is None:
                self._vectors = vector_store(self.store, self.embedder)
            return self._vectors

    def documents(self) -> list[StoredArticle]:
        return self.store.list_articles()

    def add_uploads(self, files: Sequence[tuple[str, bytes]],
                    on_chunks: Callable[[int], None] = lambda n: None,
                    stopped: Callable[[], bool] = lambda: False) -> AddReport:
        """Index uploaded files (name, bytes); names only label the articles, never paths.
        Once `stopped()` is true the work ends between batches with `Cancelled` (articles are
        marked stored only once complete, so the store stays consistent)."""
        loaded = (load_upload(name, raw) for name, raw in files)
        return add_loaded(loaded, self.store, Stoppable(self.embedder, stopped),
                          on_chunks=on_chunks)

    def remove(self, doc_id: str) -> None:
        if not self.store.remove(doc_id):
            raise NotFound(f"No article with id {doc_id!r} is stored")

    def health(self) -> dict[str, Any]:
        articles, chunks = self.store.count()
        return {"status": "ok", "articles": articles, "chunks": chunks, "model": MODEL_NAME,
                "store": "chroma server" if "://" in self.store.location else "embedded"}


class Stoppable:
    """An embedder that gives up between batches of texts (and between token counts, which
    chunking asks for) once `stopped()` is true."""

    def __init__(self, embedder: Embedder, stopped: Callable[[], bool], batch: int = 256) -> None:
        self.embedder, self.stopped, self.batch = embedder, stopped, batch

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch):
            self.check()
            vectors += self.embedder.embed_documents(texts[start:start + self.batch])
        return vectors

    def count_tokens(self, texts: list[str]) -> list[int]:  # chunking: minutes for a huge file
        self.check()
        return self.embedder.count_tokens(texts)

    def check(self) -> None:
        if self.stopped():
            raise Cancelled("The upload was cancelled: its client went away")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.embedder, name)


def backend_from(settings: Settings) -> Backend:
    return Backend(settings.backend, settings.model, settings.base_url,
                   settings.llm_api_key, settings.max_tokens)


def check_question(question: str, max_chars: int) -> str:
    """The question with its whitespace collapsed; BadQuestion if empty, too long (measured
    before any other work) or not encodable text."""
    if len(question) > 2 * max_chars:  # whitespace collapses below; nothing longer is split
        raise BadQuestion(f"The question is {len(question)} characters long; "
                          f"the limit is {max_chars}")
    question = " ".join(question.split())
    if not question:
        raise BadQuestion("The question is empty: type a question about the articles")
    if len(question) > max_chars:
        raise BadQuestion(f"The question is {len(question)} characters long; "
                          f"the limit is {max_chars}")
    if not encodable(question):
        raise BadQuestion("The question contains a character that is not valid text "
                          "(a lone UTF-16 surrogate)")
    return question


def check_k(k: int | None, default: int, most: int) -> int:
    """The passages to retrieve: `default` when not given; BadQuestion outside 1..`most`."""
    if k is None:
        return min(default, most)
    if not 1 <= k <= most:
        raise BadQuestion(f"k (passages to retrieve) must be between 1 and {most}, got {k}")
    return k


def check_history(history: Sequence[Any], max_turns: int, max_chars: int) -> None:
    """BadQuestion when the conversation has too many turns or a turn is too long or not text."""
    if len(history) > max_turns:
        raise BadQuestion(f"The conversation has {len(history)} earlier turns; the limit is "
                          f"{max_turns}: start a new one")
    for turn in user_turns(history):
        if len(turn) > 2 * max_chars or not encodable(turn):
            raise BadQuestion(f"An earlier turn is longer than {2 * max_chars} characters or "
                              "is not valid text")


MAX_SOURCES = 200  # source filters per question: far below what Chroma's query can take
MAX_SOURCE_CHARS = 2000


def check_filters(filters: Filters) -> None:
    """FilterError for too many or too long sources, a bad date range or a source that is not
    valid text."""
    if len(filters.sources) > MAX_SOURCES:
        raise FilterError(f"{len(filters.sources)} source filters; the limit is {MAX_SOURCES}")
    if any(len(s) > MAX_SOURCE_CHARS for s in filters.sources):
        raise FilterError(f"A source filter is longer than {MAX_SOURCE_CHARS} characters")
    filters.bounds()
    if not all(encodable(s) for s in filters.sources):
        raise FilterError("A source filter contains a character that is not valid text "
                          "(a lone UTF-16 surrogate)")


def describe(filters: Filters) -> str:
    parts = [f"source {s[:80]!r}" for s in filters.sources[:3]]
    if len(filters.sources) > 3:
        parts.append(f"and {len(filters.sources) - 3} more sources")
    parts += [f"{name} {value}" for name, value in (("from", filters.date_from),
                                                    ("to", filters.date_to)) if value]
    return ", ".join(parts)


def encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
