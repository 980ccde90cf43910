"""The whole app (API + chat pages) on a real uvicorn server on loopback, over the sample store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from index.add import add_paths
from index.embed import MODEL_NAME
from index.settings import read_settings
from index.store import open_store
from qa.service import Service
from qa.settings import ALL_SETTINGS
from tests.conftest import SAMPLES, serve


@pytest.fixture(scope="module")
def app_service(tmp_path_factory: pytest.TempPathFactory, embedder) -> Service:  # type: ignore[no-untyped-def]
    store = open_store(str(tmp_path_factory.mktemp("ui") / "store"), None, MODEL_NAME)
    add_paths([str(SAMPLES)], store, embedder)
    return Service(store, embedder)


@pytest.fixture(scope="module")
def app_url(app_service: Service, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from ui.server import create_app

    with pytest.MonkeyPatch.context() as env:
        env.setenv("GRADIO_TEMP_DIR", str(tmp_path_factory.mktemp("gradio")))
        with serve(create_app(app_service, read_settings(ALL_SETTINGS, {}))) as url:
            yield url
