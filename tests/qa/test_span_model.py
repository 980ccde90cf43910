"""The span reader: the best-span search worked by hand, the manifest check, the shipped model on
a sentence that answers and one that doesn't, and the training data's separation from the
reader's."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from qa.span_model import (
    MANIFEST_FILE,
    MAX_ANSWER_PIECES,
    MODEL_DIR,
    MODEL_FILE,
    SpanModelError,
    best_span,
    load_span_model,
)

TRAIN = Path(__file__).resolve().parents[3] / "shared" / "train"


def test_best_span_by_hand() -> None:
    # pieces: [CLS] who ? [SEP] zetas shot him . [SEP]; the sentence is segment 1
    types = [0, 0, 0, 0, 1, 1, 1, 1, 1]
    offsets = [(0, 0), (0, 3), (3, 4), (0, 0), (0, 5), (6, 10), (11, 14), (14, 15), (0, 0)]
    starts = np.array([1.0, 9.0, 0, 0, 5.0, 0, 0, 0, 0])  # "who" scores high but is the question
    ends = np.array([1.0, 9.0, 0, 0, 4.0, 0, 0, 0, 9.0])  # [SEP] scores high but has no text
    found = best_span(starts, ends, types, offsets)
    assert (found.start, found.end) == (0, 5)  # "zetas"
    assert found.margin == pytest.approx(5.0 + 4.0 - 2.0)


def test_best_span_never_ends_before_it_starts_nor_runs_too_long() -> None:
    n = MAX_ANSWER_PIECES + 10
    types = [0, *([1] * (n - 1))]
    offsets = [(0, 0), *[(i * 2, i * 2 + 1) for i in range(n - 1)]]
    starts, ends = np.full(n, -5.0), np.zeros(n)
    starts[5], ends[3] = 10.0, 10.0  # the best end is before the best start
    ends[5 + MAX_ANSWER_PIECES] = 12.0  # and the next best is one piece too far
    found = best_span(starts, ends, types, offsets)
    assert found.start == offsets[5][0]
    assert offsets[5][1] <= found.end <= offsets[5 + MAX_ANSWER_PIECES - 1][1]


def test_no_model_folder_means_no_span_model(tmp_path: Path) -> None:
    assert load_span_model(tmp_path) is None


def test_a_model_that_does_not_match_its_manifest_is_refused(tmp_path: Path) -> None:
    (tmp_path / MODEL_FILE).write_bytes(b"not the model")
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({"sha256": "0" * 64}))
    with pytest.raises(SpanModelError, match="python -m qa.train_spans"):
        load_span_model(tmp_path)


@pytest.mark.skipif(not (MODEL_DIR / MODEL_FILE).is_file(), reason="no span model shipped")
def test_the_shipped_model_points_at_the_answer_and_not_at_a_sentence_without_one() -> None:
    spans = load_span_model()
    assert spans is not None
    answers, other = spans.read("Who shot the drug agent near San Luis Potosi?", [
        "The agent was shot by members of the Zetas cartel at a fake roadblock.",
        "The weather in the capital was mild for the season.",
    ])
    text = "The agent was shot by members of the Zetas cartel at a fake roadblock."
    assert "Zetas" in text[answers.start:answers.end]
    assert answers.margin > 0 > other.margin


@pytest.mark.skipif(not (TRAIN / "squad-train-pool" / "train.json").is_file(),
                    reason="needs ../shared/train")
def test_span_training_uses_no_paragraph_the_reader_trains_on() -> None:
    from qa.train_spans import squad_rows

    rows, used = squad_rows(TRAIN / "squad-train-pool" / "train.json", 0, 5000)
    assert used and rows
    assert not {context for _, context, *_ in rows} & used


def test_span_pairs_mark_the_answer_inside_the_sentence() -> None:
    from qa.train_spans import pairs_of

    text = ("Zapata worked for ICE. He was shot by the Zetas at a fake roadblock. "
            "The Zetas are a cartel based in the north. Officials said little else.")
    start = text.index("the Zetas")
    pairs = pairs_of("Who shot Zapata?", text, [(start, start + len("the Zetas"))],
                     random.Random(0), hard=5)
    positive, *negatives = pairs
    assert positive.sentence[positive.start:positive.end] == "the Zetas"
    # a sentence that holds the answer's words elsewhere is no negative
    assert sorted(n.sentence for n in negatives) == ["Officials said little else.",
                                                     "Zapata worked for ICE."]
