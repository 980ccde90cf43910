"""The dependencies flow one way, ui -> qa -> index, and no modules import each other in a
circle, function-level imports included (they only hide a cycle)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("index", "qa", "ui")
LAYER = {"index": 0, "qa": 1, "ui": 2}


def module_imports() -> dict[str, set[str]]:
    """Each module of the three packages -> the modules of those packages it imports."""
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            graph[name.removesuffix(".__init__")] = imported(path)
    return {m: {t for t in targets if t in graph and t != m} for m, targets in graph.items()}


def imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def test_no_lower_layer_imports_a_higher_one() -> None:
    wrong = [(m, t) for m, targets in module_imports().items() for t in targets
             if LAYER[t.split(".")[0]] > LAYER[m.split(".")[0]]]
    assert not wrong


def test_no_import_cycle() -> None:
    graph = module_imports()
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            assert state.get(target) != 1, " -> ".join([*path, module, target])
            if target not in state:
                visit(target, [*path, module])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
