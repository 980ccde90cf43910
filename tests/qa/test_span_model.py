"""The span reader: the best-span search worked by hand, the manifest check, the shipped model on
a sentence that answers and one that doesn't, and the training data's separation from the
reader's."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from qa.reader.candidates import InPassage, context_before
from qa.reader.spans import (
    MANIFEST_FILE,
    MAX_ANSWER_PIECES,
    MODEL_DIR,
    MODEL_FILE,
    SpanModelError,
    best_span,
    encode_pair,
    load_span_model,
    tokenizer_for,
)
from qa.types import Passage

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


def test_with_context_the_span_stays_inside_the_sentence() -> None:
    from index.model import model_path

    tokenizer = tokenizer_for(model_path())
    pair = encode_pair(tokenizer, "Who shot him?", "The Zetas shot him.", "Zapata drove north")
    assert pair.base == len("Zapata drove north [SEP] ")
    n = len(pair.ids)
    starts, ends = np.zeros(n), np.zeros(n)
    in_context = [i for i, (t, (a, _)) in enumerate(zip(pair.types, pair.offsets, strict=True))
                  if t == 1 and a < pair.base]
    starts[in_context], ends[in_context] = 50.0, 50.0  # "Zapata" scores best but is context
    first = next(i for i, (a, _) in enumerate(pair.offsets) if a == pair.base + 4)
    last = next(i for i, (_, b) in enumerate(pair.offsets) if b == pair.base + 9)  # zeta ##s
    starts[first], ends[last] = 5.0, 5.0
    found = best_span(starts, ends, pair.types, pair.offsets, pair.base)
    assert "The Zetas shot him."[found.start:found.end] == "Zetas"
    assert context_before("One two three. Four five", 24, 3) == "three. Four five"


def test_no_model_folder_means_no_span_model(tmp_path: Path) -> None:
    assert load_span_model(tmp_path) is None


def test_a_model_that_does_not_match_its_manifest_is_refused(tmp_path: Path) -> None:
    (tmp_path / MODEL_FILE).write_bytes(b"not the model")
    (tmp_path / MANIFEST_FILE).write_text(json.dumps({"sha256": "0" * 64}))
    with pytest.raises(SpanModelError, match="python -m qa.training.train_spans"):
        load_span_model(tmp_path)


@pytest.mark.skipif(not (MODEL_DIR / MODEL_FILE).is_file(), reason="no span model shipped")
def test_the_shipped_model_points_at_the_answer_and_not_at_a_sentence_without_one() -> None:
    spans = load_span_model()
    assert spans is not None
    text = "The agent was shot by members of the Zetas cartel at a fake roadblock."
    before = "Jaime Zapata, a U.S. immigration agent, was driving near San Luis Potosi on Tuesday."
    question = "Who shot the drug agent near San Luis Potosi?"
    passage = f"{before} {text} The weather was mild for the season."
    start = len(before) + 1
    answers, other = spans.read(question, [InPassage(passage, start, start + len(text)),
                                           InPassage(passage, start + len(text) + 1,
                                                     len(passage))])
    assert "Zetas" in text[answers.start:answers.end]
    assert answers.margin > 0 > other.margin
    # the words before the sentence (who "the agent" is) are what make it answer
    (alone,) = spans.read(question, [InPassage(text, 0, len(text))])
    assert alone.margin < answers.margin


@pytest.mark.skipif(not (TRAIN / "squad-train-pool" / "train.json").is_file(),
                    reason="needs ../shared/train")
def test_span_training_uses_no_paragraph_the_reader_trains_on() -> None:
    from qa.training.train_reader import build
    from qa.training.train_spans import load_squad, reader_paragraphs, squad_rows

    pools, data, _ = build(TRAIN, 0, 5000)
    used = reader_paragraphs(pools)
    rows = squad_rows(load_squad(TRAIN), used)
    assert used and rows
    assert {e.passages[e.gold] for e in data if e.group.startswith("squad-") and e.gold is not None} <= used
    assert not {context for _, context, *_ in rows} & used


def test_span_pairs_mark_the_answer_inside_the_sentence() -> None:
    from qa.training.train_spans import pairs_of

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


def test_span_pairs_carry_the_words_before_the_sentence() -> None:
    from qa.training.train_spans import CONTEXT_WORDS, pairs_of

    text = "Nikola Tesla was an inventor. He was born in 1856 in Smiljan. He died in New York."
    start = text.index("1856")
    positive, *_ = pairs_of("When was Tesla born?", text, [(start, start + 4)], random.Random(0))
    assert positive.sentence == "He was born in 1856 in Smiljan."
    assert positive.context == "Nikola Tesla was an inventor."
    assert len(positive.context.split()) <= CONTEXT_WORDS


def test_a_swapped_name_makes_the_answering_sentence_a_negative() -> None:
    from qa.training.train_spans import swapped

    context = "Tesla moved to Paris in 1882. He worked for Continental Edison there."
    qa = {"question": "When did Tesla move to Paris?",
          "answers": [{"text": "1882", "answer_start": context.index("1882")}]}
    others = ["In 1884 Thomas Edison hired him in New York City."]
    (pair,) = swapped(qa, context, others, random.Random(0))
    assert pair.sentence == "Tesla moved to Paris in 1882."
    assert (pair.start, pair.end) == (-1, -1)
    assert pair.question in ("When did Thomas Edison move to Paris?",
                             "When did Tesla move to New York City?")


def _passage(doc: str, title: str, text: str) -> Passage:
    return Passage(doc, f"{doc}-0", title, f"{doc}.txt", "", text, 0, len(text), 1.0)


LIBRARY = _passage("library", "Library fire destroys archive", (
    "Library fire destroys archive. The city library was founded in 1854 by a group of merchants. "
    "On Sunday night a fire swept through its east wing. Investigators said the fire was caused by "
    "a faulty heater in the basement. About 20,000 books were lost."))
PANDAS = _passage("pandas", "Zoo welcomes twins", (
    "The zoo's red panda gave birth to twins in June. The keepers waited weeks before choosing "
    "names. The red panda cubs are called Ada and Bo. Visitors can see them from Saturday."))


@pytest.mark.skipif(not (MODEL_DIR / MODEL_FILE).is_file(), reason="no span model shipped")
@pytest.mark.parametrize(("question", "sentence", "short"), [
    ("What caused the library fire?", "caused by a faulty heater", "faulty heater"),
    ("What are the red panda cubs called?", "called Ada and Bo", "Ada and Bo"),
    ("When was the city library founded?", "founded in 1854", "1854"),
])
def test_the_gated_reader_picks_the_answering_sentence_and_its_short_answer(
    embedder: object, question: str, sentence: str, short: str
) -> None:
    """The issue's misses: the headline and the sentence before the names were chosen instead."""
    from qa.answerers.extractive import default_reader, read
    from qa.embed_cache import CachedEmbeddings

    reader = default_reader()
    assert reader.gate is not None and reader.spans is not None
    idf = lambda term: 1.0  # noqa: E731 - every word counts the same here
    result = read(question, [LIBRARY, PANDAS], CachedEmbeddings(embedder), idf, reader)
    assert result.answerable and result.reason in ("answered", "partial")
    assert sentence in result.citations[0].quote
    assert result.short is not None and short in result.short


@pytest.mark.skipif(not (MODEL_DIR / MODEL_FILE).is_file(), reason="no span model shipped")
def test_the_gated_reader_refuses_a_question_the_passages_do_not_answer(embedder: object) -> None:
    from qa.answerers.extractive import default_reader, read
    from qa.embed_cache import CachedEmbeddings

    result = read("Who won the 2018 FIFA World Cup?", [LIBRARY, PANDAS],
                  CachedEmbeddings(embedder), lambda term: 1.0, default_reader())
    assert not result.answerable and result.reason == "not_found"
