"""`python -m qa ask`, run in-process against a store built by `python -m index add`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.__main__ import main as index_main
from index.load import file_doc_id
from qa.serving.cli import main as qa_main
from tests.conftest import SAMPLES
from tests.qa.test_answer import CITATION_KEYS


@pytest.fixture
def sample_store(tmp_path: Path, use_model: None) -> str:
    store = str(tmp_path / "store")
    assert index_main(["add", str(SAMPLES), "--store", store]) == 0
    return store


def test_ask_json_prints_one_answer_object(sample_store: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert qa_main(["ask", "Who was killed at the fake roadblock?", "--store", sample_store,
                    "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["answerable"] is True and "Zapata" in data["answer"]
    assert set(data["citations"][0]) == CITATION_KEYS


def test_ask_text_lists_sources_and_refuses_plainly(
    sample_store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert qa_main(["ask", "Who was killed at the fake roadblock?", "--store", sample_store]) == 0
    out = capsys.readouterr().out
    assert "[1]" in out and "000_b1f5c98873b2f0c9.txt" in out
    assert qa_main(["ask", "Who won the 2018 FIFA World Cup?", "--store", sample_store]) == 0
    out = capsys.readouterr().out
    assert out.startswith("The articles don't say") and "Nearest passages" in out


def test_source_and_date_filters_reach_retrieval(
    sample_store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    shown = "samples/001_6af38f333212537e.txt"  # as stored: no absolute path (issue 21)
    absolute = str(SAMPLES.resolve() / "001_6af38f333212537e.txt")
    for source in (shown, absolute, file_doc_id(SAMPLES / "001_6af38f333212537e.txt")):
        assert qa_main(["ask", "Who was killed?", "--store", sample_store, "--source", source,
                        "--json"]) == 0
        passages = json.loads(capsys.readouterr().out)["passages"]
        assert passages and {p["source"] for p in passages} == {shown}
    assert qa_main(["ask", "Who was killed?", "--store", sample_store, "--date-from", "2011",
                    "--json"]) == 1, "the samples are undated"
    assert "No stored article matches --date-from 2011 (of 2 articles)" in capsys.readouterr().err


def test_a_relative_source_matches_and_a_source_matching_nothing_says_so(
    sample_store: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(SAMPLES.parent.parent)
    capsys.readouterr()
    relative = "data/samples/001_6af38f333212537e.txt"
    assert qa_main(["ask", "What did the cables say?", "--store", sample_store, "--source",
                    relative, "--json"]) == 0
    passages = json.loads(capsys.readouterr().out)["passages"]
    assert passages and {p["source"] for p in passages} == {relative[5:]}
    assert qa_main(["ask", "What did the cables say?", "--store", sample_store, "--source",
                    "data/samples/nothing.txt"]) == 1
    error = capsys.readouterr().err
    assert "No stored article matches --source data/samples/nothing.txt" in error


@pytest.mark.parametrize("argv, message", [
    (["ask", "  "], "question is empty"),
    (["ask", "why?", "--date-from", "last week"], "date_from must look like YYYY"),
    (["ask", "why?", "--k", "0"], "--k must be a positive number"),
])
def test_bad_input_gets_one_clear_line(
    sample_store: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    capsys.readouterr()
    assert qa_main([*argv, "--store", sample_store]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_missing_store_is_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert qa_main(["ask", "why?", "--store", str(tmp_path / "nothing")]) == 1
    assert "There is no store at" in capsys.readouterr().err
    assert not (tmp_path / "nothing").exists()


def test_the_text_output_names_the_short_answer_and_the_outcome() -> None:
    from qa.serving.cli import outcome_line
    from qa.types import Answer

    answered = Answer("Who?", "Zapata was shot. [1]", True, (), (), short="Zapata",
                      reason="answered", confidence=0.912)
    assert outcome_line(answered) == "short: Zapata · answered (confidence 0.91)"
    refused = Answer("Who?", "The articles don't say.", False, (), ())
    assert outcome_line(refused) == "not_found"
