"""A smoke run of `python -m qa.bench` on a few paragraphs and a small synthetic store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from qa.bench import END, START, main
from qa.report import write_between
from tests.conftest import SHARED

pytestmark = pytest.mark.slow


def test_bench_writes_its_tables_and_plot(tmp_path: Path, use_model: None, capsys: Any) -> None:
    docs = tmp_path / "docs.jsonl"
    lines = (SHARED / "eval" / "squad2-dev-500" / "docs.jsonl").read_text().splitlines()[:12]
    docs.write_text("\n".join(lines) + "\n")
    out = tmp_path / "docs" / "benchmarks.md"
    out.parent.mkdir()
    out.write_text(f"# Benchmarks\n\nHand-written notes.\n\n{START}\nold\n{END}\n\nMore notes.\n")
    assert main(["--docs", str(docs), "--sizes", "200", "400", "--rounds", "1",
                 "--questions", "6", "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# Benchmarks\n\nHand-written notes.") and text.endswith("More notes.\n")
    assert "old" not in text and "| ours |" in text and "| naive (LangChain tutorial) |" in text
    assert "Indexing throughput ratio" in text and "| 400 |" in text
    assert (tmp_path / "docs" / "benchmarks.png").stat().st_size > 10_000
    assert START in capsys.readouterr().out


def test_a_file_without_markers_gets_a_section(tmp_path: Path) -> None:
    out = tmp_path / "b.md"
    out.write_text("# Notes\n")
    write_between(out, f"{START}\nnew\n{END}", START, END)
    assert out.read_text() == f"# Notes\n\n{START}\nnew\n{END}\n"
