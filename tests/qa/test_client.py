"""The Python client against the real API served by uvicorn on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.add import add_paths
from index.embed import MODEL_NAME
from index.settings import read_settings
from index.store import open_store
from qa.client import Client, ClientError
from qa.service import Service
from qa.serving.api import create_api
from qa.settings import ALL_SETTINGS
from qa.types import Answer
from tests.conftest import SAMPLES, free_port, serve, write

KILLED = "Who was killed at the fake roadblock?"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[str]:  # type: ignore[no-untyped-def]
    store = open_store(str(tmp_path_factory.mktemp("client") / "store"), None, MODEL_NAME)
    add_paths([str(SAMPLES)], store, embedder)
    with serve(create_api(Service(store, embedder), read_settings(ALL_SETTINGS, {"QA_RATE_PER_MINUTE": "0",
                                                                             "QA_MAX_IN_FLIGHT": "0"}))) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[Client]:
    with Client(base_url, timeout=30) as c:
        yield c


def test_ask_returns_a_typed_answer(client: Client) -> None:
    answer = client.ask(KILLED)
    assert isinstance(answer, Answer) and answer.answerable
    first = answer.citations[0]
    assert "Zapata" in first.quote and first.source.endswith("000_b1f5c98873b2f0c9.txt")
    assert first.end - first.start == len(first.quote) and first.title
    assert any(p.chunk_id == first.chunk_id for p in answer.passages)


def test_ask_stream_yields_tokens_then_the_answer(client: Client) -> None:
    items = list(client.ask_stream("and who was wounded?", history=[KILLED]))
    tokens, final = items[:-1], items[-1]
    assert isinstance(final, Answer) and all(isinstance(t, str) for t in tokens)
    assert "".join(tokens) == final.answer and final.query.endswith("(killed fake roadblock)")
    assert final == client.ask("and who was wounded?", history=[KILLED])


def test_documents_round_trip(client: Client, tmp_path: Path) -> None:
    path = write(tmp_path / "lunar.md", "# Lunar Garden\n\nThe lunar garden grows basil under "
                 "domes of glass, tended by nine botanists.\n")
    report = client.add_documents([path])
    assert report["new"] == 1 and not report["errors"]
    answer = client.ask("Who tends the lunar garden?", sources=[])
    assert answer.citations[0].title == "Lunar Garden"
    doc_id = answer.citations[0].doc_id
    assert doc_id in {d["doc_id"] for d in client.documents()}
    client.remove(doc_id)
    assert doc_id not in {d["doc_id"] for d in client.documents()}
    with pytest.raises(ClientError) as caught:
        client.remove(doc_id)
    assert caught.value.status == 404 and "No article with id" in caught.value.message


def test_api_errors_become_client_errors_with_the_message(client: Client) -> None:
    with pytest.raises(ClientError, match="question is empty") as caught:
        client.ask("  ")
    assert (caught.value.status, caught.value.code) == (400, "bad_question")
    with pytest.raises(ClientError, match="date_from must look like"):
        list(client.ask_stream(KILLED, date_from="soon"))
    with pytest.raises(ClientError, match="k: Input should be greater"):
        client.ask(KILLED, k=0)
    assert client.health()["status"] == "ok"


def test_an_unreachable_server_is_a_client_error() -> None:
    with (Client(f"http://127.0.0.1:{free_port()}", timeout=2) as dead,
          pytest.raises(ClientError) as caught):
        dead.ask(KILLED)
    assert caught.value.code == "unreachable"


def test_several_askers_are_served_at_once(base_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    questions = [KILLED, "What did U.S. officials complain about?"] * 4

    def ask(question: str) -> Answer:
        with Client(base_url, timeout=60) as own:
            return own.ask(question)

    ask(KILLED)  # the store changed in an earlier test: this rebuilds the BM25 corpus (while it
    # is rebuilt, questions are answered from the previous one, with its idf: other scores)
    with ThreadPoolExecutor(len(questions)) as pool:
        answers = list(pool.map(ask, questions))
    assert [a.question for a in answers] == questions
    assert answers[0] == answers[2] == answers[4] and answers[1] == answers[3]
