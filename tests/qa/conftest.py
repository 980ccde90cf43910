"""A store of the two sample articles, indexed once with the real model, read by many tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.add import add_paths
from index.embed import MODEL_NAME
from index.store import open_store
from qa.service import Service
from tests.conftest import SAMPLES


@pytest.fixture(scope="module")
def sample_service(tmp_path_factory: pytest.TempPathFactory, embedder) -> Service:  # type: ignore[no-untyped-def]
    """Read-only: tests must not add or remove articles here."""
    store = open_store(str(tmp_path_factory.mktemp("samples") / "store"), None, MODEL_NAME)
    report = add_paths([str(SAMPLES)], store, embedder)
    assert report.new == 2 and not report.errors
    return Service(store, embedder)


def article_text(service: Service, doc_id: str) -> str:
    text = service.store.article_text(doc_id)
    assert text is not None
    return text


__all__ = ["Path", "article_text"]
