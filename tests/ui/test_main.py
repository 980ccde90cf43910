"""`python -m ui`'s start: a --store folder that does not exist is an error unless --create asks
for a new store; a port in use is one clear line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from index.settings import SettingError
from qa.errors import EmptyStore
from tests.conftest import ROOT, free_port
from tests.ui.conftest import server_env
from ui.__main__ import check_port, check_store


def test_a_missing_store_folder_needs_create(tmp_path: Path) -> None:
    missing = str(tmp_path / "stroe")
    with pytest.raises(EmptyStore, match="--create") as raised:
        check_store(missing, None, create=False)
    assert f"There is no store at {missing}" in str(raised.value)
    check_store(missing, None, create=True)
    check_store(str(tmp_path), None, create=False)  # a folder that exists
    check_store(missing, "http://127.0.0.1:8000", create=False)  # the server holds the store


@pytest.mark.slow
def test_serving_a_mistyped_store_is_refused_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "stroe"
    done = subprocess.run([sys.executable, "-m", "ui", "--store", str(missing), "--port",
                           str(free_port())], cwd=ROOT, env=server_env({}, tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert f"error: There is no store at {missing}" in done.stderr and "--create" in done.stderr
    assert "Traceback" not in done.stderr and "Serving on" not in done.stdout
    assert not missing.exists()


def test_a_port_in_use_is_named_before_anything_loads(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(SettingError, match=f"Port {port} is already in use.*--port") as held:
            check_port("127.0.0.1", port)
        assert f"(pid {os.getpid()}: " in str(held.value) and "pytest" in str(held.value)
    check_port("127.0.0.1", port)  # let go: free again


@pytest.mark.slow
def test_serving_on_a_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "ui", "--store", str(tmp_path / "store"),
                               "--port", str(port)], cwd=ROOT, env=server_env({}, tmp_path),
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"error: Port {port} is already in use on 127.0.0.1 (pid {os.getpid()}: ")
    assert line.endswith("): pick another with --port")
    assert "Serving on" not in done.stdout
