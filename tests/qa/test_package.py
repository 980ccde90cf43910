"""The project is a package: `pip install .` installs index, qa and ui with the prompts and the
pages' static files, and the Python client imports from anywhere with only httpx beside it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
SOURCES = ("pyproject.toml", "README.md", "index", "qa", "ui", "prompts")


def build_wheel(tmp_path: Path) -> Path:
    """A wheel built from a copy of the sources (building in place would leave build/ behind)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, src / name)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--verbose", "--no-deps",
                            "--no-build-isolation", "--wheel-dir", str(tmp_path / "dist"),
                            str(src)], check=True, capture_output=True, text=True, timeout=300)
    log = built.stdout + built.stderr  # setuptools' warnings on the layout (`make setup` shows them)
    assert "would be ignored" not in log and "as data is deprecated" not in log, log
    return next((tmp_path / "dist").glob("article_qa-*.whl"))


def test_the_wheel_holds_the_packages_prompts_static_files_and_weights(tmp_path: Path) -> None:
    names = set(zipfile.ZipFile(build_wheel(tmp_path)).namelist())
    expected = {"qa/client.py", "qa/types.py", "index/store.py", "ui/server.py",
                "prompts/answer.txt", "prompts/condense.txt", "prompts/refusal.txt",
                "ui/static/embed.js", "qa/reader/weights/reader.json",
                "qa/reader/weights/reader.manifest.json",
                "qa/reader/weights/span_model/model_int8.onnx",
                "qa/reader/weights/span_model/manifest.json", "qa/reader/spans.py",
                "qa/answerers/extractive.py", "qa/measuring/baselines.py"}
    assert expected <= names, expected - names
    assert not any(n.startswith("tests/") for n in names)
    assert not any(n.startswith("qa/training/") for n in names)  # what only training runs


def test_the_installed_client_imports_outside_the_checkout(tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(site), str(build_wheel(tmp_path))],
                   check=True, capture_output=True, timeout=300)
    code = ("import sys, qa.client; from qa.client import Client, ClientError; "
            "print(qa.client.__file__); "
            "print([m for m in ('torch', 'chromadb', 'langchain_core') if m in sys.modules]); "
            "import qa.prompts; print(qa.prompts.load_template('answer').name)")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    found = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, capture_output=True,
                           text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(site)})
    assert found.returncode == 0, found.stderr
    assert found.stdout.splitlines() == [str(site / "qa" / "client.py"), "[]", "answer"]
