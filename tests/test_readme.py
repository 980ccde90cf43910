"""Every command and snippet in the README runs as written, as a new user would run them: in a
fresh folder outside the checkout (with the sample articles, the venv and the user's own files
that the README names: feed.jsonl, page.html, more/articles/, notes.md, article.html), the shell
blocks in order, then the server, the curl lines and the Python client against it.

Each fenced block is run, checked against what was run, or skipped with a reason (`SKIPPED`);
a block that is none of these fails the coverage test, so a new README block gets looked at.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, SAMPLES, free_port, wait_until_up

README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
MARK = "@@@ command "
README_PORT = "7860"
# A piece of a block (or of one command in a shell block) -> why it is not run.
SKIPPED = {
    "make run     #": "`make run` serves until stopped and `make test` is this suite; the test "
                      "runs make run's steps itself (index data/samples, `python -m ui`)",
    "QA_LLM_API_KEY=sk-": "needs a live OpenAI-compatible server (http://gpu-box:8000); "
                          "tests/qa/test_generate.py runs the openai backend against a local one",
    "<iframe": "markup for a wiki page: tests/ui frames /embed from another origin in Chromium",
    "<qa-chat": "markup for a wiki page: tests/ui runs embed.js's <qa-chat> in Chromium",
    "index/   load.py": "a listing of the source tree",
}
# Blocks that show what a run prints: compared with it, not run.
CHECKED = ("Zapata was shot to death", '{"question": "...", "answer": "... [1]"')


@dataclass(frozen=True)
class Block:
    lang: str
    text: str
    line: int

    def skip_reason(self) -> str | None:
        return next((why for piece, why in SKIPPED.items() if piece in self.text), None)


def readme_blocks() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    return [Block(m.group(1), m.group(2), text[: m.start()].count("\n") + 1)
            for m in FENCE.finditer(text)]


def block_with(piece: str) -> Block:
    found = [b for b in readme_blocks() if piece in b.text]
    assert len(found) == 1, f"the README should have one block with {piece!r}"
    return found[0]


def commands(block: Block) -> list[str]:
    """The block's shell commands, continuation lines joined; comment lines dropped."""
    joined = block.text.replace("\\\n", " ")
    return [line for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def promised_output(command: str) -> list[str]:
    """What a command's comment says it prints: `# again: "0 new, ..."` -> ['0 new, ...']."""
    comment = command.partition("  #")[2]
    return re.findall(r'"([^"]+)"', comment)


def test_every_readme_block_is_run_checked_or_skipped_with_a_reason() -> None:
    for block in readme_blocks():
        covered = (block.lang in ("sh", "python") or block.skip_reason()
                   or any(piece in block.text for piece in CHECKED))
        assert covered, f"README line {block.line}: a {block.lang or 'plain'} block that " \
                        "tests/test_readme.py neither runs, checks nor skips with a reason"


def user_files(folder: Path) -> None:
    """The README's user's own files, and the samples and venv of the checkout."""
    shutil.copytree(SAMPLES, folder / "data" / "samples")
    (folder / ".venv").symlink_to(ROOT / ".venv")
    (folder / "more" / "articles").mkdir(parents=True)
    (folder / "more" / "articles" / "tollund.md").write_text(
        "---\ntitle: Tollund notes\ndate: 2010-05-01\n---\n"
        "The mayor of Tollund is Ana Vasquez, elected in 2009.\n", encoding="utf-8")
    feed = [{"id": "feed-1", "title": "Harbour reopens", "date": "2010-12-02",
             "text": "The harbour of Tollund reopened on Monday after the storm."},
            {"id": "feed-2", "title": "Bridge vote", "date": "2011-03-15",
             "text": "The council voted to rebuild the old bridge by 2012."}]
    (folder / "feed.jsonl").write_text("".join(json.dumps(a) + "\n" for a in feed))
    page = ("<html><head><title>Ferry timetable</title><meta name='date' content='2011-01-10'>"
            "</head><body><p>The ferry to Tollund leaves every hour from pier 4.</p></body></html>")
    (folder / "page.html").write_text(page, encoding="utf-8")
    (folder / "article.html").write_text(page.replace("pier 4", "pier 5"), encoding="utf-8")
    (folder / "notes.md").write_text("# Market notes\n\nThe market opens at seven on Saturdays.\n",
                                     encoding="utf-8")


def user_env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("QA_", "VIRTUAL_ENV"))}
    return {**env, "GRADIO_TEMP_DIR": str(folder / "gradio")}


def run_block(block: Block, folder: Path, port: str = README_PORT) -> list[str]:
    """Run a shell block's commands in order in one bash (after activating the venv, as the
    README's first `python -m` block does); each command's stdout, in order."""
    script = ["set -e", ". .venv/bin/activate"]
    run = [c for c in commands(block) if not Block("sh", c, block.line).skip_reason()]
    for n, command in enumerate(run):
        script += [f"printf '\\n{MARK}{n}\\n'", command.replace(README_PORT, port)]
    done = subprocess.run(["bash", "-c", "\n".join(script)], cwd=folder, env=user_env(folder),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"README line {block.line}:\n{done.stdout}\n{done.stderr}"
    outputs = re.split(rf"\n{MARK}\d+\n", done.stdout)[1:]  # (curl ends without a newline)
    assert len(outputs) == len(run), done.stdout
    for command, output in zip(run, outputs, strict=True):
        for promised in promised_output(command):
            assert promised in output, (command, output)
    return outputs


def has_keys(shown: Any, real: Any, where: str = "") -> None:
    """Every key the README's JSON shows is in the real output, at the same place."""
    if isinstance(shown, dict):
        assert isinstance(real, dict), where
        for key, value in shown.items():
            assert key in real, f"{where}.{key} is in the README but not in the output"
            has_keys(value, real[key], f"{where}.{key}")
    elif isinstance(shown, list) and shown and real:
        has_keys(shown[0], real[0], f"{where}[0]")


@contextmanager
def served(block: Block, folder: Path, port: str) -> Iterator[None]:
    """The README's `python -m ui` line, run on a free port until the block is done."""
    [command] = commands(block)
    argv = command.split("#")[0].replace(README_PORT, port).split()
    python = str(ROOT / ".venv" / "bin" / "python")
    assert argv[0] == "python"
    with open(folder / "ui.log", "wb") as log:
        app = subprocess.Popen([python, *argv[1:]], cwd=folder, env=user_env(folder),
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/api/health", 180, "the README's server")
        yield
    finally:
        app.terminate()
        app.wait(timeout=30)


@pytest.mark.slow
def test_every_readme_command_and_snippet_runs_as_written(tmp_path: Path) -> None:
    folder = tmp_path / "user"
    folder.mkdir()
    user_files(folder)
    run_block(block_with("python -m index add data/samples more/articles"), folder)
    asked = run_block(block_with('python -m qa ask "Who was killed at the fake roadblock?"'),
                      folder)
    shown = block_with(CHECKED[0]).text.splitlines()[0]
    assert asked[0].splitlines()[0] == shown
    has_keys(json.loads(block_with(CHECKED[1]).text), json.loads(asked[2]))
    generated = run_block(block_with("--backend llamacpp --model smollm2"), folder)
    assert "[1]" in generated[0] or "The articles don't say" in generated[0], generated
    port = str(free_port())
    with served(block_with("python -m ui --store ./store"), folder, port):
        curl = run_block(block_with("curl -s localhost:7860/api/ask"), folder, port)
        assert "Zapata" in json.loads(curl[0])["answer"]
        assert "event: done" in curl[1]
        assert json.loads(curl[2])["errors"] == []
        assert json.loads(curl[3])["status"] == "ok"
        client = block_with("from qa.client import Client").text.replace(README_PORT, port)
        done = subprocess.run([sys.executable, "-c", client], cwd=folder, env=user_env(folder),
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert "404 not_found" in done.stdout
