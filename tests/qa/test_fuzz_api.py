"""Schemathesis against the app's own OpenAPI spec: generated requests, valid and invalid, to every
/api operation; none may get a 500, and every error keeps the one JSON shape.

Real app, real model, real Chroma store of the sample articles (uploads from the fuzzer land in a
store of its own). Rate limits are off: the fuzzer is one fast client."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from index.add import add_paths
from index.embed import MODEL_NAME
from index.settings import read_settings
from index.store import open_store
from qa.service import Service
from qa.serving.api import create_api
from qa.settings import ALL_SETTINGS
from tests.conftest import SAMPLES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory, embedder) -> Any:  # type: ignore[no-untyped-def]
    store = open_store(str(tmp_path_factory.mktemp("fuzz") / "store"), None, MODEL_NAME)
    add_paths([str(SAMPLES)], store, embedder)
    env = {"QA_RATE_PER_MINUTE": "0", "QA_MAX_IN_FLIGHT": "0", "QA_MAX_UPLOAD_MB": "1",
           "QA_ALLOWED_HOSTS": "testserver"}  # the host name the ASGI transport sends
    app = create_api(Service(store, embedder), read_settings(ALL_SETTINGS, env))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.parametrize("mode", list(GenerationMode))
def test_no_input_gets_a_500(api_schema: Any, mode: GenerationMode) -> None:
    """Valid requests (positive) and requests that break the schema (negative), drawn across
    every operation; a fixed seed keeps CI repeatable."""
    strategy = api_schema.as_strategy(mode)

    @given(data=st.data())
    @settings(max_examples=120, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(data: st.DataObject) -> None:
        case = data.draw(strategy)
        response = case.call()
        assert response.status_code < 500, (case.method, case.path, response.text[:300])
        if response.status_code >= 400:
            body = response.json()
            assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
            assert body["error"]["message"] and "Traceback" not in body["error"]["message"]

    check()
