"""The dependencies flow one way, ui -> qa -> index, and no modules import each other in a
circle, function-level imports included (they only hide a cycle). Inside qa they flow one way too:
training -> measuring -> serving -> the core (qa's top-level modules, qa.reader, qa.answerers):
the core imports none of serving, measuring and training, serving neither measuring nor training,
measuring not training; training may import anything (it runs the baselines it compares with)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("index", "qa", "ui")
LAYER = {"index": 0, "qa": 1, "ui": 2}
QA_LAYER = {"serving": 1, "measuring": 2, "training": 3}  # the rest of qa is its core: 0
# `python -m qa` and `from qa.client import Client` are serving's faces at the package's top
SERVING_FACES = ("qa.__main__", "qa.client")


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


def qa_layer(module: str) -> int:
    """0 for qa's core, else the layer of the qa subpackage that `module` is in."""
    if module in SERVING_FACES:
        return QA_LAYER["serving"]
    parts = module.split(".")
    return QA_LAYER.get(parts[1], 0) if len(parts) > 1 else 0


def test_inside_qa_no_lower_layer_imports_a_higher_one() -> None:
    graph = module_imports()
    inside = {m: {t for t in targets if t.split(".")[0] == "qa"}
              for m, targets in graph.items() if m.split(".")[0] == "qa"}
    assert {qa_layer(m) for m in inside} == {0, 1, 2, 3}  # each layer is where this test looks
    wrong = [(m, t) for m, targets in inside.items() for t in targets
             if qa_layer(t) > qa_layer(m)]
    assert not wrong


def test_the_layers_inside_qa_are_told_apart() -> None:
    assert [qa_layer(m) for m in ("qa", "qa.service", "qa.reader.spans", "qa.answerers.extractive",
                                  "qa.serving.api", "qa.client", "qa.measuring.baselines",
                                  "qa.training.train_reader")] == [0, 0, 0, 0, 1, 1, 2, 3]


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
