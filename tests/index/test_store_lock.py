"""One process at a time on an embedded store folder: a second one (the CLI beside a running app)
is refused at once with a message that says what to do, never left writing what the app can't
see. A Chroma server (--chroma-url) is the way to share a store between processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from index.__main__ import main as index_main
from index.store import StoreBusy, open_store
from tests.conftest import ROOT, SAMPLES, free_port, wait_until_up

HOLD = "from index.store import open_store; s = open_store({!r}); print('held', flush=True); input()"
NEW_FACT = "Tollund Notes\n\nThe mayor of Tollund is Ana Vasquez, elected in 2009.\n"


def holder(folder: Path) -> subprocess.Popen[str]:
    """Another process that holds `folder` open until its stdin closes."""
    process = subprocess.Popen([sys.executable, "-c", HOLD.format(str(folder))], cwd=ROOT,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout and process.stdout.readline().strip() == "held"
    return process


def test_a_second_process_is_refused_and_told_what_to_do(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "store"
    process = holder(folder)
    try:
        with pytest.raises(StoreBusy, match=rf"in use by another process \(pid {process.pid}"):
            open_store(str(folder))
        started = time.monotonic()
        assert index_main(["add", str(SAMPLES), "--store", str(folder)]) == 1
        assert time.monotonic() - started < 5, "refused at once, before loading the model"
        error = capsys.readouterr().err
        assert error.startswith(f"error: The store folder {folder} is in use")
        assert "POST /api/documents" in error and "--chroma-url" in error
    finally:
        assert process.stdin
        process.stdin.close()
        process.wait(timeout=30)
    assert open_store(str(folder)).count() == (0, 0), "free again once the other one ended"


def test_this_process_shares_its_own_hold(tmp_path: Path) -> None:
    one = open_store(str(tmp_path / "store"))
    two = open_store(str(tmp_path / "store"))
    assert one.held is two.held and one.held is not None


@pytest.mark.slow
def test_the_cli_beside_a_running_app_is_refused_and_the_app_takes_the_articles(
        tmp_path: Path) -> None:
    folder, port = tmp_path / "store", free_port()
    env = {**os.environ, "GRADIO_TEMP_DIR": str(tmp_path / "gradio")}
    with open(tmp_path / "app.log", "wb") as log:
        app = subprocess.Popen([sys.executable, "-m", "ui", "--store", str(folder), "--create",
                                "--port", str(port)], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/api/health", 180, "the app")
        cli = subprocess.run([sys.executable, "-m", "index", "add", str(SAMPLES), "--store",
                              str(folder)], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=120)
        assert cli.returncode == 1
        assert f"in use by another process (pid {app.pid}: python -m ui --store" in cli.stderr
        assert "Traceback" not in cli.stderr
        files = [("files", ("tollund.txt", NEW_FACT.encode(), "text/plain"))]
        assert httpx.post(f"{base}/api/documents", files=files, timeout=120).json()["new"] == 1
        found = httpx.post(f"{base}/api/ask", json={"question": "Who is the mayor of Tollund?"},
                           timeout=120).json()
        assert "Vasquez" in found["answer"], found
    finally:
        app.terminate()
        app.wait(timeout=30)
    assert index_main(["add", str(SAMPLES), "--store", str(folder)]) == 0, "free once it stopped"
