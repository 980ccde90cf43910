"""`python -m index`, run in-process with the session's real model (see `use_model`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.__main__ import main
from index.load import file_doc_id
from tests.conftest import SAMPLES

IDS = [file_doc_id(SAMPLES / name) for name in
       ("000_b1f5c98873b2f0c9.txt", "001_6af38f333212537e.txt")]
Capture = pytest.CaptureFixture[str]


@pytest.fixture
def store(tmp_path: Path) -> str:
    return str(tmp_path / "store")


def run(capsys: Capture, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_add_twice(store: str, use_model: None, capsys: Capture) -> None:
    status, out, _ = run(capsys, "add", str(SAMPLES), "--store", store)
    assert status == 0 and out.startswith("2 new, 0 updated, 0 unchanged, 0 skipped")
    status, out, _ = run(capsys, "add", str(SAMPLES), "--store", store)
    assert status == 0 and "0 new, 0 updated, 2 unchanged" in out


def test_add_with_a_missing_path_stores_the_rest_and_fails(
    tmp_path: Path, store: str, use_model: None, capsys: Capture
) -> None:
    missing = str(tmp_path / "no-such-folder")
    status, out, err = run(capsys, "add", missing, str(SAMPLES), "--store", store)
    assert status == 1
    assert f"skipped {missing}: no such file or folder" in err
    assert "2 new" in out and "1 skipped" in out
    status, out, _ = run(capsys, "stats", "--store", store)
    assert status == 0 and "articles  2" in out


def test_list_stats_and_remove(store: str, use_model: None, capsys: Capture) -> None:
    assert run(capsys, "add", str(SAMPLES), "--store", store)[0] == 0
    status, out, err = run(capsys, "list", "--store", store)
    assert status == 0 and [line.split("\t")[0] for line in out.splitlines()] == IDS
    assert "2 articles" in err
    status, out, _ = run(capsys, "stats", "--store", store)
    assert status == 0 and "articles  2" in out and f"store     {store}" in out

    status, out, _ = run(capsys, "remove", IDS[0], "--store", store)
    assert status == 0 and out.strip() == f"removed {IDS[0]}"
    status, _, err = run(capsys, "remove", IDS[0], "--store", store)
    assert status == 1 and f"no article with id {IDS[0]!r}" in err
    assert "articles  1" in run(capsys, "stats", "--store", store)[1]


def test_qa_store_is_used_without_store_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use_model: None, capsys: Capture
) -> None:
    env_store = str(tmp_path / "env-store")
    monkeypatch.setenv("QA_STORE", env_store)
    monkeypatch.chdir(tmp_path)  # a stray ./store would land here, not in the repo
    assert run(capsys, "add", str(SAMPLES))[0] == 0
    status, out, _ = run(capsys, "stats")
    assert status == 0 and f"store     {env_store}" in out and "articles  2" in out
    assert Path(env_store).is_dir() and not (tmp_path / "store").exists()


def test_a_bad_embed_batch_setting_is_named(
    store: str, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    monkeypatch.setenv("QA_EMBED_BATCH", "abc")
    status, out, err = run(capsys, "add", str(SAMPLES), "--store", store)
    assert status == 1 and out == ""
    assert err.startswith("error: Setting QA_EMBED_BATCH='abc' is invalid")
    assert not Path(store).exists()  # refused before opening anything
