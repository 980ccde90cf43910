"""Server mode: the same index and ask commands against a real `chroma run` on loopback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.__main__ import main as index_main
from qa.__main__ import main as qa_main
from tests.conftest import SAMPLES, free_port, wait_until_up

pytestmark = pytest.mark.slow


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert chroma, "the chroma CLI comes with the chromadb package"
    port = free_port()
    server = subprocess.Popen([chroma, "run", "--path", str(tmp_path / "server"), "--host",
                               "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/api/v2/heartbeat", 20, "chroma run")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_index_and_ask_through_a_chroma_server(
    chroma_url: str, use_model: None, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert index_main(["add", str(SAMPLES), "--chroma-url", chroma_url]) == 0
    assert "2 new" in capsys.readouterr().out
    monkeypatch.setenv("QA_CHROMA_URL", chroma_url)
    assert index_main(["add", str(SAMPLES)]) == 0
    assert "2 unchanged" in capsys.readouterr().out
    assert qa_main(["ask", "Who was killed at the fake roadblock?", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["answerable"] and "Zapata" in data["answer"]


def test_an_unreachable_server_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert index_main(["stats", "--chroma-url", url]) == 1
    err = capsys.readouterr().err
    assert f"Cannot open the Chroma server at {url}" in err and "Traceback" not in err
