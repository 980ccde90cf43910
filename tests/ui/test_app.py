"""The chat, launched for real on loopback and driven through its named `/chat` endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.add import add_paths
from index.embed import MODEL_NAME
from index.store import open_store
from qa.service import Service
from tests.conftest import SAMPLES
from ui.app import build_demo

pytestmark = pytest.mark.slow


@pytest.fixture
def chat_url(tmp_path: Path, embedder) -> Iterator[str]:  # type: ignore[no-untyped-def]
    store = open_store(str(tmp_path / "store"), None, MODEL_NAME)
    add_paths([str(SAMPLES)], store, embedder)
    demo = build_demo(Service(store, embedder))
    demo.queue().launch(server_name="127.0.0.1", server_port=None, prevent_thread_lock=True,
                        quiet=True)
    try:
        yield demo.local_url
    finally:
        demo.close()


def test_chat_answers_with_the_cited_source(chat_url: str) -> None:
    from gradio_client import Client

    client = Client(chat_url, verbose=False)
    reply = client.predict("Who was killed at the fake roadblock?", api_name="/chat")
    assert "Zapata" in reply and "**Sources**" in reply and "000_b1f5c98873b2f0c9.txt" in reply
    with pytest.raises(Exception, match="question is empty"):
        client.predict("   ", api_name="/chat")
