"""The Chroma store: one collection of embedded chunks, one of article records.

The chunks hold all of an article's text (consecutive slices, each with the text before it; the
record keeps what follows the last), so the text is stored once: storing it whole as well took
10-15% of indexing time. `article_text` puts it back together.

Works the same on an embedded `PersistentClient` folder and on a `chroma run` server. Chroma
never embeds anything itself here: every vector comes from our model. An article's record is
written after its chunks, so it marks the article complete; an interrupted write is finished by
the next `add`. A server that can't be reached (stopped, restarting, stuck) is a `StoreError`
naming its URL from every call, within `TIMEOUT`, and the next call after it is back just works.
It does not chunk or embed.
"""

from __future__ import annotations

import functools
import sys
import uuid
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from index.errors import AppError
from index.load import date_number
from index.types import Article, Chunk

CHUNKS = "qa_chunks"
ARTICLES = "qa_articles"
META = "qa_meta"  # one record whose value changes with every write: the store's version
Row = tuple[str, str, dict[str, Any]]  # id, document, metadata
PAGE = 5000  # records per read, to keep memory flat on large stores
TIMEOUT = (5.0, 60.0)  # seconds to connect to a Chroma server, and to wait for one reply
LOCK_FILE = ".qa-lock"  # in an embedded store's folder: who holds it (see `FolderLock`)
# The store folders this process holds, by absolute path: each open_store of one shares its lock.
_HELD: dict[str, weakref.ref[FolderLock]] = {}


class StoreError(AppError, RuntimeError):
    """The store can't be opened or reached; the message says which and why."""

    code, status = "store_unavailable", 503


@dataclass(frozen=True)
class StoredArticle:
    doc_id: str
    title: str
    source: str
    date: str
    author: str
    chunks: int
    content_hash: str


def open_store(path: str | None = None, url: str | None = None, model: str = "") -> Store:
    """A store on a Chroma server at `url`, else in the folder `path`."""
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False, allow_reset=False)
    held = None
    try:
        if url:
            parsed = urlparse(url)
            client: Any = chromadb.HttpClient(host=parsed.hostname or "127.0.0.1",
                                              port=parsed.port or 8000,
                                              ssl=parsed.scheme == "https", settings=settings)
            with_timeouts(client).heartbeat()
            client = Guarded(client, url)
        else:
            Path(path or "./store").mkdir(parents=True, exist_ok=True)
            held = hold_folder(path or "./store")
            client = chromadb.PersistentClient(path=path or "./store", settings=settings)
    except StoreBusy:
        raise
    except Exception as exc:  # chromadb raises many kinds; say where and why, once
        where = f"the Chroma server at {url}" if url else f"the store folder {path}"
        raise StoreError(f"Cannot open {where}: {exc}") from exc
    store = Store(client, model, url or str(path))
    store.held = held
    return store


class StoreBusy(StoreError):
    """Another process has the embedded store folder open."""

    code, status = "store_busy", 409


class FolderLock:
    """An exclusive lock on a store folder, held by this process while anything here uses it
    (released when the last user lets go of it, or when the process ends, however it ends).

    Chroma's embedded store belongs to one process: each keeps its own copy of the vector index,
    so a process that writes beside another one writes what the other never sees (its questions
    miss the new chunks until it restarts) and may overwrite the other's index files."""

    def __init__(self, folder: Path) -> None:
        import fcntl
        import os

        self.path = folder / LOCK_FILE
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(self.fd, 400).decode(errors="replace").strip() or "unknown"
            os.close(self.fd)
            raise StoreBusy(busy_message(folder, holder)) from None
        os.ftruncate(self.fd, 0)
        command = [Path(sys.orig_argv[0]).name, *sys.orig_argv[1:]]  # e.g. python -m ui ...
        os.write(self.fd, f"pid {os.getpid()}: {' '.join(command)}"[:400].encode())
        weakref.finalize(self, os.close, self.fd)  # unlocks the folder


def hold_folder(folder: str) -> FolderLock:
    """This process's lock on `folder`: the one it already holds, else a new one; `StoreBusy`
    when another process holds it. (A second lock of this process's own would be refused by
    the first: flock locks belong to the open file, hence the registry of held ones.)"""
    key = str(Path(folder).resolve())
    lock = _HELD[key]() if key in _HELD else None
    if lock is None:
        lock = FolderLock(Path(key))
        _HELD[key] = weakref.ref(lock)
    return lock


def busy_message(folder: Path, holder: str) -> str:
    return (f"The store folder {folder} is in use by another process ({holder}). An embedded "
            "store serves one process at a time: one beside it would write what the other never "
            "sees. Use the running app instead (the chat's *Add articles*, or the API: POST "
            "/api/documents, GET /api/documents, POST /api/ask; qa.client does the same), stop "
            "it first, or serve the store with `chroma run --path DIR --port 8000` and give "
            "every process --chroma-url http://127.0.0.1:8000")


def with_timeouts(client: Any) -> Any:
    """The HTTP client with `TIMEOUT`: chromadb's own waits forever on a stuck server. (chromadb
    has no setting for it; its session is reached through private attributes, if present.)"""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(TIMEOUT[1], connect=TIMEOUT[0])
    return client


class Guarded:
    """A chromadb client or collection of a server whose calls raise `StoreError`, naming the
    server, when it can't be reached or has lost the collection; the collections it returns are
    guarded too, so code given the client (langchain-chroma's search too) gets the same error."""

    def __init__(self, target: Any, url: str) -> None:
        self._target, self._url = target, url

    def __getattr__(self, name: str) -> Any:
        if name in ("_target", "_url"):  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        value = getattr(self._target, name)
        return self._guard(value) if callable(value) else value

    def _guard(self, method: Callable[..., Any]) -> Callable[..., Any]:
        from chromadb.api.models.Collection import Collection

        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = method(*args, **kwargs)
            except Exception as exc:
                if (error := self._store_error(exc)) is None:
                    raise
                raise error from exc
            return Guarded(result, self._url) if isinstance(result, Collection) else result

        return call

    def _store_error(self, exc: Exception) -> StoreError | None:
        """The StoreError that `exc` means, if it is the server's fault, not the caller's."""
        import httpx
        from chromadb.api.models.Collection import Collection
        from chromadb.errors import NotFoundError

        if isinstance(exc, httpx.TransportError):
            reason = str(exc) or type(exc).__name__
            return StoreError(f"The Chroma server at {self._url} is unreachable ({reason}); "
                              "is it running?")
        if isinstance(exc, NotFoundError) and isinstance(self._target, Collection):
            return StoreError(f"The Chroma server at {self._url} no longer has the collection "
                              f"{self._target.name} (restarted on an empty folder?); restart the "
                              "app to start a new store there")
        return None


Entry = tuple[Article, list[Chunk], list[list[float]], str]  # article, chunks, vectors, hash


class Store:
    """Chunks and articles in two Chroma collections of one client."""

    def __init__(self, client: Any, model: str, location: str) -> None:
        self.client = client
        self.location = location
        self.held: FolderLock | None = None  # an embedded store's folder lock, kept while in use
        self.chunks = client.get_or_create_collection(
            CHUNKS, embedding_function=None, configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedding_model": model} if model else None)
        self.articles = client.get_or_create_collection(ARTICLES, embedding_function=None)
        self.meta = client.get_or_create_collection(META, embedding_function=None)
        stored_model = (self.chunks.metadata or {}).get("embedding_model")
        if model and stored_model and stored_model != model:
            raise StoreError(f"The store at {location} was built with {stored_model}, not {model}; "
                             "use another --store or remove this one")

    def stored_hashes(self, doc_ids: list[str]) -> dict[str, str]:
        """doc_id -> content hash of the stored version, for those of `doc_ids` that are stored
        (one read per `get_max_batch_size` ids)."""
        hashes: dict[str, str] = {}
        for part in batches(self.client, len(doc_ids)):
            found = self.articles.get(ids=doc_ids[part.start : part.stop], include=["metadatas"])
            hashes.update((doc_id, str(meta["content_hash"]))
                          for doc_id, meta in zip(found["ids"], found["metadatas"], strict=True))
        return hashes

    def put(self, article: Article, chunks: list[Chunk], vectors: list[list[float]],
            content_hash: str) -> None:
        """Write one article and its chunks (see `put_many`)."""
        self.put_many([(article, chunks, vectors, content_hash)])

    def put_many(self, items: list[Entry]) -> None:
        """Write several articles in a few batched calls: mark those already stored incomplete,
        write all chunks, drop their stale ones, then mark the articles complete (last). Every
        write is cut into batches Chroma accepts, whatever the number of chunks."""
        if not items:
            return
        doc_ids = [article.doc_id for article, *_ in items]
        self._mark_incomplete(doc_ids)
        self._changed()
        old = set(self.chunks.get(where={"doc_id": {"$in": doc_ids}}, include=[])["ids"])
        rows = [(c, v, meta) for article, chunks, vectors, _ in items
                for c, v, meta in zip(chunks, vectors, chunk_metadatas(article, chunks),
                                      strict=True)]
        for part in batches(self.client, len(rows)):
            batch = rows[part.start : part.stop]
            self.chunks.upsert(ids=[c.chunk_id for c, _, _ in batch],
                               embeddings=[v for _, v, _ in batch],
                               documents=[c.text for c, _, _ in batch],
                               metadatas=[meta for _, _, meta in batch])
        stale = sorted(old - {c.chunk_id for c, _, _ in rows})
        for part in batches(self.client, len(stale)):
            self.chunks.delete(ids=stale[part.start : part.stop])
        metas = [{**article_metadata(article), "chunks": len(chunks), "content_hash": digest,
                  "tail": article.text[chunks[-1].end if chunks else 0 :]}
                 for article, chunks, _, digest in items]
        for part in batches(self.client, len(items)):
            self.articles.upsert(ids=doc_ids[part.start : part.stop],
                                 embeddings=[[0.0]] * len(part),
                                 metadatas=metas[part.start : part.stop])
        self._changed()

    def _mark_incomplete(self, doc_ids: list[str]) -> None:
        """Blank the content hash of those of `doc_ids` already stored, so that an interrupted
        write leaves them to be written again."""
        for part in batches(self.client, len(doc_ids)):
            found = self.articles.get(ids=doc_ids[part.start : part.stop], include=["metadatas"])
            if not found["ids"]:
                continue
            incomplete = [{**meta, "content_hash": ""} for meta in found["metadatas"]]
            self.articles.update(ids=found["ids"], metadatas=incomplete)
            # records written before the text moved into the chunks hold the old whole text as
            # their document, which an upsert without documents would keep: blank it
            if whole := [i for i, m in zip(found["ids"], found["metadatas"], strict=True)
                         if "tail" not in m]:
                self.articles.update(ids=whole, embeddings=[[0.0]] * len(whole),
                                     documents=[""] * len(whole))  # (never embed on our own)

    def remove(self, doc_id: str) -> bool:
        """Delete an article and its chunks; False if there was neither."""
        had_chunks = bool(self.chunks.get(where={"doc_id": doc_id}, include=[], limit=1)["ids"])
        had_article = bool(self.articles.get(ids=[doc_id], include=[])["ids"])
        self.chunks.delete(where={"doc_id": doc_id})
        self.articles.delete(ids=[doc_id])
        self._changed()
        return had_chunks or had_article

    def list_articles(self) -> list[StoredArticle]:
        rows = [meta for _, _, meta in self._pages(self.articles, ["metadatas"])]
        return sorted((_stored_article(m) for m in rows), key=lambda a: a.doc_id)

    def article_text(self, doc_id: str) -> str | None:
        """The stored article's cleaned text, put together from its chunks: they are consecutive
        slices of it, each with the text `before` it, and the article keeps the `tail`."""
        found = self.articles.get(ids=[doc_id], include=["metadatas", "documents"])
        if not found["ids"]:
            return None
        meta = found["metadatas"][0]
        if "tail" not in meta:  # stored by chunker 2 or older: the text is the article's document
            return str(found["documents"][0])
        chunks = self.chunks.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])
        parts = sorted(zip(chunks["metadatas"], chunks["documents"], strict=True),
                       key=lambda part: int(part[0]["start"]))
        return "".join(str(m["before"]) + str(text) for m, text in parts) + str(meta["tail"])

    def iter_chunks(self) -> Iterator[Row]:
        """(chunk_id, text, metadata) of every stored chunk."""
        return self._pages(self.chunks, ["documents", "metadatas"])

    def version(self) -> str:
        """Changes whenever an article is added, changed or removed (or left incomplete), by
        this process or another one on the same store: every change stamps the store when it
        starts and when it ends. One read of one record, whatever the size (counting the chunks
        too took 8-12 ms a question at 100k chunks, a third of retrieval)."""
        found = self.meta.get(ids=["version"], include=["metadatas"])
        return str(found["metadatas"][0]["stamp"]) if found["ids"] else ""

    def _changed(self) -> None:
        """A new version stamp, written at the start and at the end of every change."""
        self.meta.upsert(ids=["version"], embeddings=[[0.0]], documents=[""],
                         metadatas=[{"stamp": uuid.uuid4().hex}])

    def count(self) -> tuple[int, int]:
        """(articles, chunks)."""
        return self.articles.count(), self.chunks.count()

    def _pages(self, collection: Any, include: list[str]) -> Iterator[Row]:
        offset = 0
        while True:
            page = collection.get(include=include, limit=PAGE, offset=offset)
            documents = page.get("documents") or [""] * len(page["ids"])
            yield from zip(page["ids"], documents, page["metadatas"], strict=True)
            if len(page["ids"]) < PAGE:
                return
            offset += PAGE


def article_metadata(article: Article) -> dict[str, Any]:
    meta: dict[str, Any] = {"doc_id": article.doc_id, "title": article.title,
                            "source": article.source, "date": article.date,
                            "author": article.author}
    if (number := date_number(article.date)) is not None:
        meta["date_num"] = number
    return meta


def chunk_metadatas(article: Article, chunks: list[Chunk]) -> list[dict[str, Any]]:
    """Each chunk's metadata: the article's, its place, and the text between it and the chunk
    before (whitespace, as a rule), so that the chunks give back the whole article."""
    ends = [0] + [c.end for c in chunks[:-1]]
    return [{**article_metadata(article), "chunk_index": c.index, "start": c.start, "end": c.end,
             "before": article.text[end : c.start]} for c, end in zip(chunks, ends, strict=True)]


def _stored_article(meta: dict[str, Any]) -> StoredArticle:
    return StoredArticle(str(meta["doc_id"]), str(meta["title"]), str(meta["source"]),
                         str(meta["date"]), str(meta["author"]), int(meta["chunks"]),
                         str(meta["content_hash"]))


def batches(client: Any, total: int) -> Iterator[range]:
    """`range(total)` cut into slices Chroma accepts in one write: a client refuses more than
    `get_max_batch_size()` records a call (5461 on an embedded store)."""
    step = max(1, int(client.get_max_batch_size()))
    for low in range(0, total, step):
        yield range(low, min(total, low + step))


def folder_size(path: str) -> int:
    """Bytes under a store folder (0 for a server store)."""
    root = Path(path)
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.is_dir() else 0
