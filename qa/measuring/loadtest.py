"""`python -m qa.measuring.loadtest [--store DIR | --url URL] [--clients 20] [--seconds 60]`

A bounded load test on loopback: `--clients` concurrent askers post questions to `/api/ask` for
`--seconds`, each waiting for its answer before asking again. With `--store` it first starts the
app (`python -m ui`, rate limits off unless `--keep-limits`) on a free loopback port and stops it
afterwards, measuring the server's memory (RSS) before and after the load. It reports requests/s,
latency p50/p95/max, status counts (5xx must be zero) and rewrites the part of `--out` between
`<!-- load:start -->` and `<!-- load:end -->`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from qa.measuring.report import write_between

ROOT = Path(__file__).resolve().parents[2]  # the repository
START, END = "<!-- load:start -->", "<!-- load:end -->"
QUESTIONS = ("Who was killed at the fake roadblock?", "What did U.S. officials complain about?",
             "Who was wounded in the attack?", "What did the cables say about Mexico's army?",
             "When did the shooting happen?", "What is the capital of Australia?")


@dataclass
class LoadReport:
    clients: int
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    rss_before_mb: float | None = None
    rss_after_mb: float | None = None

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status.startswith("5"))

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms) or [0.0]
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def ask_loop(http: httpx.AsyncClient, n: int, until: float, report: LoadReport) -> None:
    """One client: ask, wait for the answer, ask the next question, until the time is up."""
    i = n
    while time.monotonic() < until:
        start = time.perf_counter()
        try:
            response = await http.post("/api/ask", json={"question": QUESTIONS[i % len(QUESTIONS)]})
            status = str(response.status_code)
        except httpx.HTTPError as exc:
            status = f"transport error ({type(exc).__name__})"
        report.latencies_ms.append((time.perf_counter() - start) * 1000)
        report.statuses[status] += 1
        i += 1


async def run_load(url: str, clients: int, seconds: float,
                   headers: dict[str, str] | None = None) -> LoadReport:
    report = LoadReport(clients)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits,
                                 headers=headers) as http:
        start = time.monotonic()
        await asyncio.gather(*(ask_loop(http, n, start + seconds, report)
                               for n in range(clients)))
        report.seconds = time.monotonic() - start
    return report


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process from /proc (Linux); None elsewhere."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def app_server(store: str, keep_limits: bool) -> Iterator[tuple[str, int]]:
    """`python -m ui --store STORE` on a free loopback port: (url, pid), stopped afterwards."""
    port = free_port()
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    if not keep_limits:
        env["QA_RATE_PER_MINUTE"] = "0"  # and answers at once per client (all share one address)
        env["QA_MAX_IN_FLIGHT"] = "0"
    server = subprocess.Popen([sys.executable, "-m", "ui", "--store", store, "--port", str(port)],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url, server)
        yield url, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def wait_for(url: str, server: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"error: the server exited with {server.returncode}")
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.5)
    raise SystemExit(f"error: the server at {url} did not start within {seconds:.0f} s")


def measure(url: str, pid: int | None, clients: int, seconds: float,
            headers: dict[str, str] | None = None) -> LoadReport:
    """Warm up (one question of each kind), then the load, with the server's RSS around it."""
    with httpx.Client(base_url=url, timeout=120, headers=headers) as http:
        for question in QUESTIONS:
            http.post("/api/ask", json={"question": question})
    before = rss_mb(pid) if pid else None
    report = asyncio.run(run_load(url, clients, seconds, headers))
    report.rss_before_mb, report.rss_after_mb = before, (rss_mb(pid) if pid else None)
    return report


def table(report: LoadReport) -> str:
    memory = (f"{report.rss_before_mb:.0f} MB → {report.rss_after_mb:.0f} MB"
              if report.rss_before_mb and report.rss_after_mb else "not measured")
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(report.statuses.items()))
    return "\n".join([
        f"{START}",
        f"{report.clients} concurrent clients for {report.seconds:.0f} s against `/api/ask` "
        "(extractive answers over the sample store, loopback, rate limits off):",
        "",
        "| requests | requests/s | p50 | p95 | max | 5xx | statuses | server RSS before → after |",
        "|---|---|---|---|---|---|---|---|",
        f"| {report.requests} | {report.requests / max(report.seconds, 1e-9):.2f} "
        f"| {report.percentile(0.5):.0f} ms | {report.percentile(0.95):.0f} ms "
        f"| {max(report.latencies_ms, default=0):.0f} ms | {report.server_errors} "
        f"| {statuses} | {memory} |",
        f"{END}",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.measuring.loadtest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--store", help="start the app on this store for the test")
    where.add_argument("--url", help="test an app that is already running")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--api-key", help="sent as Authorization: Bearer (with --url)")
    parser.add_argument("--keep-limits", action="store_true", help="keep the rate limits on")
    parser.add_argument("--out", type=Path, help="write the table into this Markdown file")
    args = parser.parse_args(argv)
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else None
    if args.url:
        report = measure(args.url.rstrip("/"), None, args.clients, args.seconds, headers)
    else:
        with app_server(args.store, args.keep_limits) as (url, pid):
            report = measure(url, pid, args.clients, args.seconds)
    print(table(report))
    if args.out:
        write_between(args.out, table(report), START, END)
    return 1 if report.server_errors else 0


if __name__ == "__main__":
    from index.exits import run_cli

    sys.exit(run_cli(main))
