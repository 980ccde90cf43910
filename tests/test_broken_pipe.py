"""Every command line ends quietly when whoever reads its output stops early
(`python -m index list | head -5`): exit status 141, as a shell reports for SIGPIPE, and no
BrokenPipeError traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from index.__main__ import main as index_main
from index.exits import BROKEN_PIPE
from tests.conftest import ROOT, SAMPLES

pytestmark = pytest.mark.slow


def closed_reader(*argv: str) -> subprocess.CompletedProcess[str]:
    """Run `python ARGV` with its stdout a pipe whose reader has already gone (as `head` after
    its lines), so that its first write fails whatever the timing."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, *argv], stdout=write_end, stderr=subprocess.PIPE,
                              text=True, cwd=ROOT, timeout=300)
    finally:
        os.close(write_end)


@pytest.mark.parametrize("argv", [("-m", "index", "--help"), ("-m", "qa", "--help"),
                                  ("-m", "ui", "--help"), ("-m", "qa.measuring.eval", "--help")])
def test_help_into_a_closed_pipe(argv: tuple[str, ...]) -> None:
    """argparse drops help it cannot write (0) or the flush finds the pipe closed (141)."""
    done = closed_reader(*argv)
    assert done.returncode in (0, BROKEN_PIPE) and done.stderr == ""


def test_list_and_ask_into_a_closed_pipe(tmp_path: Path, use_model: None) -> None:
    store = str(tmp_path / "store")
    assert index_main(["add", str(SAMPLES), "--store", store]) == 0
    done = closed_reader("-m", "index", "list", "--store", store)
    assert done.returncode == BROKEN_PIPE and done.stderr == ""
    done = closed_reader("-m", "qa", "ask", "What did the report find?", "--store", store)
    assert done.returncode == BROKEN_PIPE and "Traceback" not in done.stderr
    assert "BrokenPipe" not in done.stderr and "Exception ignored" not in done.stderr


def test_a_reader_that_reads_some_then_closes(tmp_path: Path, use_model: None) -> None:
    """`python -m index list | head -1`, as a shell runs it."""
    store = str(tmp_path / "store")
    assert index_main(["add", str(SAMPLES), "--store", store]) == 0
    done = subprocess.run(["bash", "-c", f"set -o pipefail; {sys.executable} -m index list "
                           f"--store {store} | head -1"], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.stdout.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.returncode in (0, BROKEN_PIPE)
