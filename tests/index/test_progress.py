"""Progress of `python -m index add`: articles done of the total, chunks and the time left, as a
bar in a terminal and as a line every few seconds anywhere else."""

from __future__ import annotations

import io
import shutil
import time
from pathlib import Path

import pytest

from index.__main__ import main as index_main
from index.add import Progress, add_paths
from index.progress import BarReporter, LogReporter, count_articles, eta, progress_line, reporter
from index.store import open_store
from tests.conftest import SAMPLES, write
from tests.fakes import FakeEmbedder


def corpus(tmp_path: Path) -> Path:
    """The two samples, a .jsonl of three articles (and a blank line), and a binary file."""
    folder = Path(shutil.copytree(SAMPLES, tmp_path / "articles"))
    lines = [f'{{"id": "j{i}", "title": "T{i}", "text": "Town {i} has a mayor."}}' for i in range(3)]
    write(folder / "feed.jsonl", "\n".join(lines[:2]) + "\n\n" + lines[2] + "\n")
    write(folder / "blob.txt", b"\x00\x01\x02binary")
    return folder


def test_the_total_counts_files_and_jsonl_lines(tmp_path: Path) -> None:
    assert count_articles([str(corpus(tmp_path)), str(tmp_path / "missing")]) == 6


def test_a_line_says_articles_chunks_and_time_left() -> None:
    assert progress_line(Progress(120, 1203), 706, 35.0) == (
        "indexing: 120/706 articles, 1203 chunks, 35 s, about 2 min 51 s left")
    assert progress_line(Progress(9, 40), 9, 3725.0) == "indexing: 9/9 articles, 40 chunks, 1 h 02 min"
    assert (eta(59.4), eta(65), eta(7260)) == ("59 s", "1 min 05 s", "2 h 01 min")


def test_without_a_terminal_one_line_every_few_seconds(tmp_path: Path) -> None:
    now = [0.0]
    out = io.StringIO()
    log = LogReporter(10, out, every=5.0, clock=lambda: now[0])
    for second, done in ((1, 1), (4, 2), (5.5, 3), (7, 4), (11, 5)):
        now[0] = second
        log(Progress(done, done * 4))
    assert out.getvalue().splitlines() == [
        "indexing: 3/10 articles, 12 chunks, 6 s, about 13 s left",
        "indexing: 5/10 articles, 20 chunks, 11 s, about 11 s left"]


def test_a_line_comes_every_few_seconds_even_while_nothing_is_reported() -> None:
    """One embedding call can take many seconds: the heartbeat keeps the lines coming."""
    out = io.StringIO()
    log = LogReporter(10, out, every=0.05).start()
    log(Progress(3, 12))
    time.sleep(0.5)
    log.close()
    printed = out.getvalue().splitlines()
    assert len(printed) >= 2 and all(line.startswith("indexing: 3/10 articles, 12 chunks")
                                     for line in printed)
    time.sleep(0.1)
    assert out.getvalue().splitlines() == printed, "nothing after close"


def test_add_reports_progress_after_every_file_up_to_the_total(tmp_path: Path) -> None:
    folder = corpus(tmp_path)
    heard: list[Progress] = []
    store = open_store(str(tmp_path / "store"), None, "fake")
    report = add_paths([str(folder)], store, FakeEmbedder(), on_progress=heard.append)
    assert [p.articles for p in heard] == sorted(p.articles for p in heard)
    assert heard[-1] == Progress(count_articles([str(folder)]), report.chunks)


def test_a_terminal_gets_a_bar_with_the_total_and_chunks(tmp_path: Path) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    bar = reporter(4, out)
    assert isinstance(bar, BarReporter)
    bar(Progress(2, 17))
    bar.close()
    assert "2/4" in out.getvalue() and "17 chunks" in out.getvalue()
    assert isinstance(reporter(4, io.StringIO()), LogReporter)


def test_the_cli_logs_progress_lines_when_not_in_a_terminal(
        tmp_path: Path, use_model: None, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("index.progress.LOG_EVERY", 0.0)
    assert index_main(["add", str(SAMPLES), "--store", str(tmp_path / "store")]) == 0
    err = capsys.readouterr().err
    assert "indexing: 2/2 articles," in err and "chunks" in err
