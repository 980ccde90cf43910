"""The reader's parts without the model: answer types, features, short answers, weights."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from index.sentences import after_title, is_heading
from qa.answer_types import new_spans, question_type
from qa.measuring.baselines import SPAN_FEATURES, SpanScorer, first_stage_reader, span_candidates
from qa.reader import (
    MANIFEST,
    SENTENCE_FEATURES,
    SPAN_MODEL_DIR,
    WEIGHTS,
    Candidate,
    Linear,
    Reader,
    SpanModelError,
    load_reader,
    sentence_features,
)


@pytest.mark.parametrize(("question", "kind"), [
    ("Who signed the January cable?", "name"),
    ("When was the library built?", "date"),
    ("In what year did the war end?", "date"),
    ("Where did the agents drive?", "place"),
    ("How many people have died?", "number"),
    ("What percentage of voters agreed?", "number"),
    ("What caused the library fire?", "none"),
])
def test_question_type(question: str, kind: str) -> None:
    assert question_type(question) == kind


def test_new_spans_skip_what_the_question_already_says() -> None:
    sentence = "Zapata was shot by Los Zetas in San Luis Potosi in February 2011."
    names = [sentence[a:b] for a, b in new_spans(sentence, "name", {"zapata"})]
    assert "Los Zetas" in names and "Zapata" not in names
    dates = [sentence[a:b] for a, b in new_spans(sentence, "date", set())]
    assert dates == ["February 2011"]
    died = "About 34,600 people died."
    assert [died[a:b] for a, b in new_spans(died, "number", set())] == ["34,600 people"]


def test_span_candidates_are_runs_outside_the_question() -> None:
    spans = [s.text for s in span_candidates(
        "What pathway is present in all eukaryotes?",
        "The RNA interference pathway is present in all eukaryotes.")]
    assert "RNA interference" in spans


def uniform(n: int) -> Linear:
    return Linear(np.zeros(n), np.ones(n), np.zeros(n), 0.0)


def test_sentence_features_have_one_row_per_candidate() -> None:
    text = "The fire was caused by a faulty heater. It spread fast."
    cands = [Candidate("The fire was caused by a faulty heater.", 0, 0, text, 0),
             Candidate("It spread fast.", 0, 1, text, text.index("It"))]
    rows = sentence_features("What caused the fire?", cands, np.array([0.6, 0.2]), lambda t: 1.0)
    assert rows.shape == (2, len(SENTENCE_FEATURES))
    named = dict(zip(SENTENCE_FEATURES, rows[0], strict=True))
    assert named["cos_gap"] == 0.0 and named["cov"] == 1.0 and named["first"] == 1.0
    assert dict(zip(SENTENCE_FEATURES, rows[1], strict=True))["prev_cov"] == 1.0
    assert sentence_features("q?", [], np.zeros(0), lambda t: 1.0).shape == (0, 23)


def test_short_answer_and_weights_round_trip(tmp_path: Path) -> None:
    span = Linear(np.zeros(len(SPAN_FEATURES)), np.ones(len(SPAN_FEATURES)),
                  np.eye(len(SPAN_FEATURES))[1] * 5, -1.0)  # prefers a typed span
    scorer = SpanScorer(span, 0.2)
    assert scorer("Who shot Zapata?", "Zapata was shot by Los Zetas.") == "Los Zetas"
    reader = Reader(uniform(len(SENTENCE_FEATURES)), 0.3, 0.6, first_spans=scorer.to_dict())
    weights, manifest = tmp_path / "reader.json", tmp_path / "manifest.json"
    weights.write_text(json.dumps(reader.to_dict()))
    manifest.write_text(json.dumps({"sha256": hashlib.sha256(weights.read_bytes()).hexdigest()}))
    loaded = load_reader(weights, manifest)
    assert loaded.refuse_below == 0.3 and loaded.short is None  # answering reads no span scorer
    short = first_stage_reader(loaded).short  # the eval's "first" pipeline reads it
    assert short is not None and short("Who shot Zapata?", "Zapata was shot by Los Zetas.") == "Los Zetas"
    weights.write_text(json.dumps(reader.to_dict()) + " ")
    with pytest.raises(ValueError, match="sha256"):
        load_reader(weights, manifest)


def test_the_shipped_weights_load() -> None:
    reader = load_reader()
    assert 0 < reader.refuse_below <= reader.caveat_below < 1


@pytest.mark.skipif(not (SPAN_MODEL_DIR / "model_int8.onnx").is_file(), reason="no span model")
def test_a_gate_and_a_span_model_not_fitted_together_refuse_to_load(tmp_path: Path) -> None:
    recorded = json.loads(MANIFEST.read_text(encoding="utf-8"))
    span_sha = json.loads((SPAN_MODEL_DIR / "manifest.json").read_text())["sha256"]
    assert recorded["gate"]["span_model_sha256"] == span_sha  # the shipped pair was fitted together
    weights, manifest = tmp_path / "reader.json", tmp_path / "reader.manifest.json"
    shutil.copy(WEIGHTS, weights)
    recorded["gate"]["span_model_sha256"] = "0" * 64  # a gate fitted over another span model
    manifest.write_text(json.dumps(recorded), encoding="utf-8")
    with pytest.raises(SpanModelError, match=r"another span model .*retrain the gate .*"
                                             r"python -m qa\.training\.train_reader"):
        load_reader(weights, manifest)
    del recorded["gate"]["span_model_sha256"]  # nor one that does not say which
    manifest.write_text(json.dumps(recorded), encoding="utf-8")
    with pytest.raises(SpanModelError, match="its manifest does not name.*retrain the gate"):
        load_reader(weights, manifest)


@pytest.mark.parametrize(("text", "heading"), [
    ("# Library fire", True),
    ("Library fire destroys archive", True),
    ("The fire was caused by a faulty heater in the basement.", False),
    ("Ada and Bo: the red panda cubs are named", True),
])
def test_headings_are_told_from_sentences(text: str, heading: bool) -> None:
    assert is_heading(text) is heading


def test_the_title_is_a_heading_whatever_punctuation_ends_it() -> None:
    assert is_heading("Library fire destroys archive.", "Library fire destroys archive")
    assert is_heading("Library fire destroys archive", "Library fire destroys archive!")
    assert not is_heading("The library fire destroyed the archive.", "Library fire")


def test_a_title_glued_to_the_first_sentence_is_cut_off() -> None:
    text = "Library fire destroys archive The fire was caused by a faulty heater."
    assert text[after_title(text, "Library fire destroys archive"):].startswith("The fire")
    assert after_title("Fire. The fire was caused by x.", "Other title here") == 0
