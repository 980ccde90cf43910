"""No function or method in index/, qa/ or ui/ runs over 40 lines (from its `def` line to its last
line, docstring included): a longer one is split into steps that each have a name."""

from __future__ import annotations

import ast

from tests.conftest import ROOT

PACKAGES = ("index", "qa", "ui")
MAX_LINES = 40


def long_functions() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = (node.end_lineno or node.lineno) - node.lineno + 1
                    if lines > MAX_LINES:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} "
                                     f"({lines} lines)")
    return found


def test_no_function_is_over_40_lines() -> None:
    assert not long_functions()
