"""The whole app (API + chat pages) on a real uvicorn server on loopback, over the sample store;
and real `python -m ui` processes for the attack tests (`start`, `stop`, their modes and keys)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.add import add_paths
from index.embed import MODEL_NAME, OFFLINE_ENV
from index.settings import read_settings
from index.store import open_store
from qa.service import Service
from qa.settings import ALL_SETTINGS
from tests.conftest import ROOT, SAMPLES, free_port, serve, wait_until_up

WRITE = "write-key-" + "w" * 20
READ = "read-key-" + "r" * 20
USER = ("ana", "correct horse")
SECRET = "The vault code of Quentin Marlowe is 4417-ZETA."
MODES: dict[str, dict[str, str]] = {
    "open": {},
    "open-keys": {"QA_API_KEYS": WRITE, "QA_READ_KEYS": READ},
    "key": {"QA_API_KEYS": WRITE, "QA_READ_KEYS": READ, "QA_PAGES": "key"},
    "login": {"QA_API_KEYS": WRITE, "QA_PAGES": "login", "QA_PAGE_USERS": ":".join(USER)},
}


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


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("attacks") / "store"
    subprocess.run([sys.executable, "-m", "index", "add", str(SAMPLES), "--store", str(store)],
                   cwd=ROOT, env=server_env({}, tmp_path_factory.mktemp("g")), check=True,
                   capture_output=True)
    return store


def server_env(extra: dict[str, str], temp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    return {**env, **OFFLINE_ENV, "GRADIO_ANALYTICS_ENABLED": "False",
            "GRADIO_TEMP_DIR": str(temp / "gradio"), "QA_RATE_PER_MINUTE": "0", **extra}


def start(store: Path, temp: Path, extra: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    shutil.copytree(store, temp / "store")
    log = (temp / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "ui", "--store", str(temp / "store"), "--port", str(port)],
        cwd=ROOT, env=server_env(extra, temp), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(f"{url}/embed.js", 120, "python -m ui")
    return process, url


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(15)


@pytest.fixture(scope="module")
def tight_server(sample_store: Path, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[tuple[str, int]]:
    temp = tmp_path_factory.mktemp("tight")
    process, url = start(sample_store, temp, {
        **MODES["login"], "QA_READ_KEYS": READ, "QA_RATE_PER_MINUTE": "1",
        "QA_RATE_BURST": "5"})
    yield url, process.pid
    stop(process)
