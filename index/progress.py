"""Showing how far `python -m index add` is: articles done of the total, chunks written and the
time left. In a terminal, a bar that updates in place; otherwise (a log, CI, `nohup`) one line
every few seconds, so a long add is never silent.

It does not index; `index.add` reports `Progress` to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from index.add import Progress
from index.load import expand_paths

LOG_EVERY = 5.0  # seconds between progress lines when not in a terminal


def count_articles(paths: list[str]) -> int:
    """How many articles `paths` hold, without parsing them: one per file, one per non-blank line
    of a .jsonl file (skipped files and bad lines count too: they are done once reported)."""
    files, _ = expand_paths(paths)
    return sum(_jsonl_lines(p) if p.suffix.lower() == ".jsonl" else 1 for p in files)


def _jsonl_lines(path: Path) -> int:
    try:
        with path.open("rb") as lines:
            return sum(1 for line in lines if line.strip())
    except OSError:
        return 1  # reported as one skipped file


def eta(seconds: float) -> str:
    """'45 s', '3 min 05 s', '1 h 02 min'."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def progress_line(done: Progress, total: int, elapsed: float) -> str:
    """'indexing: 120/706 articles, 1203 chunks, 35 s, about 2 min 51 s left'."""
    articles = min(done.articles, total)
    line = f"indexing: {articles}/{total} articles, {done.chunks} chunks, {eta(elapsed)}"
    if 0 < articles < total:
        line += f", about {eta(elapsed / articles * (total - articles))} left"
    return line


@dataclass
class LogReporter:
    """One `progress_line` every `every` seconds (and none for an add quicker than that)."""

    total: int
    stream: TextIO
    every: float = LOG_EVERY
    clock: Callable[[], float] = time.monotonic
    started: float = field(init=False)
    last: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.last = self.clock()

    def __call__(self, done: Progress) -> None:
        now = self.clock()
        if now - self.last >= self.every:
            self.last = now
            print(progress_line(done, self.total, now - self.started), file=self.stream,
                  flush=True)

    def close(self) -> None:
        """Nothing to finish: the summary line follows."""


@dataclass
class BarReporter:
    """A tqdm bar of articles, with the chunks beside it; tqdm computes the rate and time left."""

    total: int
    stream: TextIO
    bar: Any = field(init=False)

    def __post_init__(self) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=self.total, desc="indexing", unit=" articles", file=self.stream,
                        dynamic_ncols=True)

    def __call__(self, done: Progress) -> None:
        self.bar.set_postfix_str(f"{done.chunks} chunks", refresh=False)
        self.bar.update(min(done.articles, self.total) - self.bar.n)  # redraws at most 10x a s

    def close(self) -> None:
        self.bar.close()


def reporter(total: int, stream: TextIO) -> LogReporter | BarReporter:
    """A bar in a terminal, log lines anywhere else."""
    return BarReporter(total, stream) if stream.isatty() else LogReporter(total, stream, LOG_EVERY)
