"""A smoke run of `python -m qa.measuring.bench` on a few paragraphs and a small synthetic store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from qa.measuring.bench import END, START, cpu_summary, main
from qa.measuring.report import write_between
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
    assert f"on {cpu_summary()};" in text  # the machine the ratios were measured on
    assert (tmp_path / "docs" / "benchmarks.png").stat().st_size > 10_000
    assert START in capsys.readouterr().out


def test_a_file_without_markers_gets_a_section(tmp_path: Path) -> None:
    out = tmp_path / "b.md"
    out.write_text("# Notes\n")
    write_between(out, f"{START}\nnew\n{END}", START, END)
    assert out.read_text() == f"# Notes\n\n{START}\nnew\n{END}\n"


def test_the_cpu_is_named_with_the_instruction_sets_that_set_int8_speed() -> None:
    block = ("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8488C\n"
             "flags\t\t: fpu sse2 avx avx2 avx512f avx512_vnni avx512_bf16 amx_int8\n")
    named = cpu_summary(block + "\nprocessor\t: 1\nmodel name\t: other\nflags\t\t: sse2\n")
    assert named.startswith("Intel(R) Xeon(R) Platinum 8488C (")
    assert named.endswith("cores; avx2, avx512f, avx512_vnni, avx512_bf16, amx_int8)")
    assert cpu_summary("model name\t: AMD EPYC\nflags\t\t: sse2 avx avx2\n").endswith("; avx2)")
    assert cpu_summary("model name\t: Old\nflags\t\t: sse2\n").endswith("; no AVX2)")
