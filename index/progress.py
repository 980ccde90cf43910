"""Showing how far `python -m index add` is: articles done of the total, chunks written and the
time left. In a terminal, a bar that updates in place; otherwise (a log, CI, `nohup`) one line
every few seconds, so a long add is never silent.

It does not index; `index.add` reports `Progress` to it.
"""

from __future__ import annotations

import threading
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
class Heartbeat:
    """Calls `beat` every `every` seconds from a daemon thread until stopped: one embedding call
    can take many seconds and reports nothing, and the line (or the bar's clock) should still
    move."""

    beat: Callable[[], None]
    every: float = 1.0
    stopped: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Heartbeat:
        threading.Thread(target=self._run, daemon=True, name="index-progress").start()
        return self

    def _run(self) -> None:
        while not self.stopped.wait(self.every):
            self.beat()

    def stop(self) -> None:
        self.stopped.set()


@dataclass
class LogReporter:
    """One `progress_line` every `every` seconds (and none for an add quicker than that), from
    the latest progress heard: `tick` is called on each report and, once `start`ed, every second."""

    total: int
    stream: TextIO
    every: float = LOG_EVERY
    clock: Callable[[], float] = time.monotonic
    latest: Progress = Progress(0, 0)
    started: float = field(init=False)
    last: float = field(init=False)
    heartbeat: Heartbeat | None = field(default=None, init=False)
    lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    closed: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.started = self.last = self.clock()

    def start(self) -> LogReporter:
        self.heartbeat = Heartbeat(self.tick, min(1.0, max(self.every, 0.01))).start()
        return self

    def __call__(self, done: Progress) -> None:
        self.latest = done
        self.tick()

    def tick(self) -> None:
        with self.lock:
            now = self.clock()
            if now - self.last < self.every or self.closed:
                return
            self.last = now
            print(progress_line(self.latest, self.total, now - self.started), file=self.stream,
                  flush=True)

    def close(self) -> None:
        with self.lock:
            self.closed = True
        if self.heartbeat:
            self.heartbeat.stop()


@dataclass
class BarReporter:
    """A tqdm bar of articles, with the chunks beside it; tqdm computes the rate and time left,
    and the bar is redrawn every second even while nothing is reported (its clock moves)."""

    total: int
    stream: TextIO
    bar: Any = field(init=False)
    heartbeat: Heartbeat = field(init=False)

    def __post_init__(self) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=self.total, desc="indexing", unit="article", file=self.stream,
                        dynamic_ncols=True)
        self.heartbeat = Heartbeat(self.bar.refresh).start()

    def __call__(self, done: Progress) -> None:
        self.bar.set_postfix_str(f"{done.chunks} chunks", refresh=False)
        self.bar.update(min(done.articles, self.total) - self.bar.n)  # redraws at most 10x a s

    def close(self) -> None:
        self.heartbeat.stop()
        self.bar.close()


def reporter(total: int, stream: TextIO) -> LogReporter | BarReporter:
    """A bar in a terminal, log lines anywhere else."""
    if stream.isatty():
        return BarReporter(total, stream)
    return LogReporter(total, stream, LOG_EVERY).start()
