"""The load test's smoke run: a few clients for a couple of seconds against the real app."""

from __future__ import annotations

from pathlib import Path

from index.settings import read_settings
from qa.measuring.loadtest import END, START, main
from qa.service import Service
from qa.serving.api import create_api
from qa.settings import ALL_SETTINGS
from tests.conftest import serve


def test_a_short_load_run_reports_and_writes_its_table(sample_service: Service,
                                                       tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    out.write_text(f"# Benchmarks\n\nbefore\n{START}\nold\n{END}\nafter\n", encoding="utf-8")
    settings = read_settings(ALL_SETTINGS, {"QA_RATE_PER_MINUTE": "0"})
    with serve(create_api(sample_service, settings)) as url:
        assert main(["--url", url, "--clients", "3", "--seconds", "2", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "before" in text and "after" in text and "old" not in text
    row = text.split(START)[1].split("\n| ")[2]
    requests, per_second, *_ = (cell.strip() for cell in row.split("|"))
    assert int(requests) >= 3 and float(per_second) > 0
    assert "| 0 | 200: " in text  # no 5xx, every answer a 200
