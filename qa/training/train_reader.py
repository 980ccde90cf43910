"""`python -m qa.training.train_reader [--train ../shared/train] [--questions 5000] [--seed 0]`

Rebuild the reader's weights (`qa/reader/weights/reader.json`) and manifest
(`qa/reader/weights/reader.manifest.json`) from training data only (../shared/train, see its
PROVENANCE.md; no question of an evaluation set).

Each training question becomes a "retrieval": its gold passage among the passages BM25 ranks
highest for it in the same source (as retrieval would hand them to the reader), and, for one in
three questions, the same retrieval without the gold passage (the articles don't answer: every
sentence is a negative). A sentence is positive when it holds a gold answer (by offset) or is QED's
marked answer sentence; one question in six is also asked of another question's passages (off
topic: all negatives). The candidate sentences are the ones answering reads
(`qa.reader.candidate_sentences`, with each passage's title). A fifth of the questions (by
paragraph) is held out to compare the logistic regression with gradient-boosted trees (a baseline,
`qa.measuring.baselines.Trees`), and to choose the refusal and caveat thresholds and the
short-answer floor. The logistic regression ships (a JSON of weights); with the span model
present, the gate (`qa.training.train_gate`) is fitted over it and the manifest records its
sha256, which `qa.reader.load_reader` checks.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.sentences import split_sentences
from qa.lexical import BM25
from qa.measuring.baselines import SpanScorer, Trees, span_candidates, span_features
from qa.metrics import token_f1
from qa.reader import (
    MANIFEST,
    SENTENCE_FEATURES,
    WEIGHTS,
    Candidate,
    Linear,
    Reader,
    candidate_sentences,
    sentence_features,
)
from qa.training.fitting import choose_caveat, choose_refusal, fit_linear

TRAIN = Path(__file__).resolve().parents[3] / "shared" / "train"
PASSAGES = 6  # passages per training retrieval, gold included
# SQuADShifts' Reddit and Amazon-review questions are left out: a quarter of their answer sentences
# share no word with the question, and with them the held-out figures did not improve.
DOMAINS = ("wikipedia", "wikipedia-new")
OFF_TOPIC = 1 / 6  # share of questions also asked of another question's passages
CACHE = Path.home() / ".cache" / "qa" / "train-embeddings.npz"
WINDOW = 5  # sentences per passage cut from long covidqa papers


@dataclass(frozen=True)
class Example:
    """A training question over passages (with their titles); `gold` indexes the passage holding
    the answer (None: the articles don't answer), `answers` are (start, end) offsets into that
    passage."""

    question: str
    answers: tuple[str, ...]
    passages: tuple[str, ...]
    gold: int | None
    spans: tuple[tuple[int, int], ...]
    group: str
    titles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pool:
    """Passages of one source (and their articles' titles) with a BM25 over them, and the
    questions asked of them."""

    name: str
    texts: list[str]
    questions: list[tuple[str, tuple[str, ...], int, tuple[tuple[int, int], ...]]]
    titles: list[str] = field(default_factory=list)


def squad_pools(path: Path, limit: int, rng: random.Random,
                domains: tuple[str, ...] = DOMAINS) -> list[Pool]:
    """One pool per SQuAD domain; `limit` answerable questions sampled over `domains`."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    by_domain: dict[str, Pool] = {}
    rows = []
    for article in data:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                if not qa["is_impossible"] and qa["answers"] and qa["domain"] in domains:
                    rows.append((qa["domain"], paragraph["context"], qa, squad_title(article)))
    rng.shuffle(rows)
    for domain, context, qa, title in rows[:limit]:
        pool = by_domain.setdefault(domain, Pool(f"squad-{domain}", [], []))
        index = _index_of(pool, context, title)
        spans = tuple((a["answer_start"], a["answer_start"] + len(a["text"]))
                      for a in qa["answers"])
        pool.questions.append((qa["question"], tuple(a["text"] for a in qa["answers"]), index,
                               spans))
    for domain, context, _, title in rows[limit:limit * 2]:  # more passages to be distracted by
        _index_of(by_domain.setdefault(domain, Pool(f"squad-{domain}", [], [])), context, title)
    return list(by_domain.values())


def squad_title(article: dict[str, Any]) -> str:
    """A SQuAD article's title as a page shows it ("Political divisions of the United States")."""
    return str(article["title"]).replace("_", " ")


def _index_of(pool: Pool, text: str, title: str) -> int:
    if not pool.texts or pool.texts[-1] != text:
        if text in pool.texts:
            return pool.texts.index(text)
        pool.texts.append(text)
        pool.titles.append(title)
    return len(pool.texts) - 1


def qed_pool(path: Path) -> Pool:
    """QED: each question's paragraph; the positive is the marked answer sentence."""
    pool = Pool("qed", [], [])
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        chosen = row.get("annotation", {}).get("selected_sentence")
        if not chosen:
            continue
        answers = tuple(a["string"] for group in row["original_nq_answers"] for a in group)
        index = _index_of(pool, row["paragraph_text"], row.get("title_text", ""))
        pool.questions.append((row["question_text"], answers or (chosen["string"],), index,
                               ((chosen["start"], chosen["end"]),)))
    return pool


def covid_pool(questions: Path, docs: Path) -> Pool:
    """covidqa-train: its gold papers cut into passages of WINDOW sentences."""
    rows = [json.loads(x) for x in questions.read_text(encoding="utf-8").splitlines() if x]
    gold = {r["gold_doc_ids"][0] for r in rows}
    papers = {d["id"]: d for d in map(json.loads, docs.read_text().splitlines())
              if d["id"] in gold}
    texts = {doc_id: d["text"] for doc_id, d in papers.items()}
    pool = Pool("covidqa-train", [], [])
    cuts: dict[str, list[tuple[int, int]]] = {}
    for doc_id, text in texts.items():
        spans = split_sentences(text)
        cuts[doc_id] = [(spans[i][0], spans[min(i + WINDOW, len(spans)) - 1][1])
                        for i in range(0, len(spans), WINDOW)]
    offsets: dict[tuple[str, int], int] = {}
    for doc_id, windows in cuts.items():
        for a, b in windows:
            offsets[(doc_id, a)] = len(pool.texts)
            pool.texts.append(texts[doc_id][a:b])
            pool.titles.append(papers[doc_id].get("title", ""))
    for r in rows:
        doc_id, start = r["gold_doc_ids"][0], r["answer_starts"][0]
        window = next(((a, b) for a, b in cuts[doc_id] if a <= start < b), None)
        if window is None:
            continue
        answer = r["answers"][0]
        pool.questions.append((r["question"], (answer,), offsets[(doc_id, window[0])],
                               ((start - window[0], start - window[0] + len(answer)),)))
    return pool


def examples(pool: Pool, rng: random.Random) -> Iterator[Example]:
    """Per question, the gold passage among BM25's best, and for one in three also without it."""
    bm25 = BM25(pool.texts)
    for question, answers, gold, spans in pool.questions:
        ranked = [i for i, _ in bm25.top(question, PASSAGES + 1) if i != gold]
        others = ranked[:PASSAGES - 1]
        position = min(rng.randrange(PASSAGES), len(others))
        with_gold = [*others[:position], gold, *others[position:]]
        group = f"{pool.name}:{gold}"
        yield Example(question, answers, tuple(pool.texts[i] for i in with_gold), position, spans,
                      group, tuple(pool.titles[i] for i in with_gold))
        if rng.random() < 1 / 3:
            yield Example(question, answers, tuple(pool.texts[i] for i in ranked[:PASSAGES]),
                          None, (), group, tuple(pool.titles[i] for i in ranked[:PASSAGES]))


def off_topic(data: list[Example], rng: random.Random) -> list[Example]:
    """Questions asked of another question's passages (the articles are about something else):
    what a user meets asking outside the corpus. No new text, so no new embeddings."""
    answered = [e for e in data if e.gold is not None]
    out = []
    for e in rng.sample(answered, round(OFF_TOPIC * len(answered))):
        other = rng.choice(answered)
        if other.group != e.group:
            out.append(Example(e.question, e.answers, other.passages, None, (), e.group,
                               other.titles))
    return out


def candidates_of(example: Example) -> tuple[list[Candidate], list[int]]:
    """The candidate sentences of an example, as answering reads them, and their labels (1: holds
    a gold answer)."""
    found, labels = [], []
    titles = example.titles or ("",) * len(example.passages)
    for rank, (text, title) in enumerate(zip(example.passages, titles, strict=True)):
        for a, b, position in candidate_sentences(text, title):
            found.append(Candidate(text[a:b], rank, position, text, a))
            gold = rank == example.gold and any(a <= s < b or s <= a < e
                                                for s, e in example.spans)
            labels.append(int(gold))
    return found, labels


def embed_cached(texts: list[str], embedder: Any, cache: Path) -> dict[str, np.ndarray]:
    """Embeddings of `texts`, reusing (and extending) those saved in `cache` by an earlier run."""
    cache = cache.with_name(cache.name.removesuffix(".npz") + ".npz")  # what np.savez writes
    known: dict[str, np.ndarray] = {}
    if cache.is_file():
        saved = np.load(cache, allow_pickle=False)
        known = dict(zip(saved["texts"].tolist(), saved["vectors"], strict=True))
    missing = [t for t in texts if t not in known]
    print(f"embedding {len(missing)} texts ({len(texts) - len(missing)} cached)", file=sys.stderr)
    start = time.perf_counter()
    if missing:
        known |= dict(zip(missing, np.array(embedder.embed_documents(missing)), strict=True))
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, texts=np.array(list(known)), vectors=np.array(list(known.values())))
    print(f"embedded in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return known


def featurize(data: list[Example], embedder: Any, idf: Any,
              cache: Path) -> list[dict[str, Any]]:
    """Per example: its candidates, the sentence feature rows and labels (embeddings batched;
    without an embedder the cosine features are 0, as a reader without `dense` sees them)."""
    built = [(e, *candidates_of(e)) for e in data]
    texts = sorted({c.text for _, cands, _ in built for c in cands} | {e.question for e in data})
    vectors = embed_cached(texts, embedder, cache) if embedder else {}
    out = []
    for e, cands, labels in built:
        if not cands:
            continue
        dense = np.array([vectors[c.text] for c in cands]) @ vectors[e.question] if vectors \
            else np.zeros(len(cands))
        out.append({"example": e, "candidates": cands, "labels": np.array(labels),
                    "rows": sentence_features(e.question, cands, dense, idf)})
    return out


def fit_trees(rows: np.ndarray, labels: np.ndarray, seed: int = 0) -> Trees:
    """Boosted trees (sklearn), exported to flat arrays that `Trees` predicts with numpy."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.1, max_depth=6,
                                           random_state=seed).fit(rows, labels)
    nodes = [tree[0].nodes for tree in model._predictors]
    offsets = np.cumsum([0, *[len(n) for n in nodes[:-1]]])
    flat = np.concatenate(nodes)
    shift = np.repeat(offsets, [len(n) for n in nodes])
    return Trees(flat["feature_idx"].astype(int), flat["num_threshold"].astype(float),
                 flat["missing_go_to_left"].astype(bool), flat["left"].astype(int) + shift,
                 flat["right"].astype(int) + shift, flat["is_leaf"].astype(bool),
                 flat["value"].astype(float), offsets.astype(int), int(flat["depth"].max()),
                 float(np.ravel(model._baseline_prediction)[0]))


def question_scores(items: list[dict[str, Any]], predict: Any) -> list[tuple[float, bool, bool]]:
    """(best probability, the articles answer, the best sentence is a gold one) per question."""
    out = []
    for item in items:
        p = predict(item["rows"])
        best = int(np.argmax(p))
        out.append((float(p[best]), item["example"].gold is not None,
                    bool(item["labels"][best])))
    return out


def span_data(items: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """Span rows and labels (token F1 >= 0.5 with a gold answer) from the gold sentences."""
    rows, labels, groups = [], [], []
    for item in items:
        e = item["example"]
        for cand, label in zip(item["candidates"], item["labels"], strict=True):
            if not label:
                continue
            spans = span_candidates(e.question, cand.text)
            if not spans:
                continue
            f1 = [max(token_f1(s.text, g) for g in e.answers) for s in spans]
            rows.append(span_features(e.question, cand.text, spans))
            labels.append(np.array(f1) >= 0.5)
            groups.append((e, cand.text, spans, f1))
    return np.vstack(rows), np.concatenate(labels).astype(int), groups


def choose_span_floor(span: Linear, groups: list[Any]) -> tuple[float, float]:
    """The floor with the best mean short-answer F1 (the whole sentence stands in below it)."""
    best = (0.0, 0.0)
    for floor in np.arange(0.0, 0.8, 0.05):
        f1s = []
        for e, sentence, spans, f1 in groups:
            p = span.probabilities(span_features(e.question, sentence, spans))
            i = int(np.argmax(p))
            f1s.append(f1[i] if p[i] >= floor else max(token_f1(sentence, g) for g in e.answers))
        best = max(best, (float(np.mean(f1s)), round(float(floor), 3)))
    return best[1], best[0]


def held_out_scores(model: Any, held: list[dict[str, Any]]) -> dict[str, float]:
    """Held-out top-1 accuracy (the best sentence holds a gold answer) and refusal figures."""
    scores = question_scores(held, model.probabilities)
    top1 = float(np.mean([right for _, a, right in scores if a]))
    refuse, refusal = choose_refusal(scores)
    return {"top1": round(top1, 4), "refuse_below": refuse, **refusal}


def data_files(train: Path) -> list[Path]:
    return [train / "squad-train-pool" / "train.json", train / "qed" / "qed-dev.jsonlines",
            train / "covidqa-train" / "questions.jsonl",
            train.parent / "eval" / "covidqa" / "docs.jsonl"]


def build(train: Path, seed: int, questions: int = 5000) -> tuple[list[Pool], list[Example],
                                                                   set[str]]:
    """The pools, the training retrievals and the held-out groups (a fifth, by paragraph), the same
    for a seed whoever asks (`python -m qa.training.train_spans` leaves the held-out groups out)."""
    rng = random.Random(seed)
    files = data_files(train)
    pools = [*squad_pools(files[0], questions, rng), qed_pool(files[1]),
             covid_pool(files[2], files[3])]
    data = [e for pool in pools for e in examples(pool, rng)]
    data += off_topic(data, rng)
    groups = sorted({e.group for e in data})
    return pools, data, set(random.Random(seed).sample(groups, len(groups) // 5))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.training.train_reader",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=Path, default=TRAIN, help="the training data folder")
    parser.add_argument("--questions", type=int, default=5000, help="SQuAD questions sampled")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument("--cache", type=Path, default=CACHE,
                        help="embeddings saved between runs (a cache, safe to delete)")
    parser.add_argument("--no-trees", action="store_true", help="skip the trees comparison")
    parser.add_argument("--refuse-below", type=float,
                        help="the refusal threshold, when chosen elsewhere (covidqa 200-499)")
    parser.add_argument("--caveat-below", type=float, help="the caveat threshold, likewise")
    parser.add_argument("--no-dense", action="store_true",
                        help="a first stage without MiniLM cosines (no sentence is embedded)")
    parser.add_argument("--no-gate", action="store_true",
                        help="ship the first stage alone (no second stage over the span model)")
    args = parser.parse_args(argv)
    from index.embed import load_embedder

    files = data_files(args.train)
    pools, data, held_groups = build(args.train, args.seed, args.questions)
    idf_index = BM25([t for pool in pools for t in pool.texts])
    embedder = None if args.no_dense else load_embedder()
    items = featurize(data, embedder, idf_index.idf, args.cache)
    train = [i for i in items if i["example"].group not in held_groups]
    held = [i for i in items if i["example"].group in held_groups]
    return finish(args, files, pools, train, held)


def finish(args: argparse.Namespace, files: list[Path], pools: list[Pool],
           train: list[dict[str, Any]], held: list[dict[str, Any]]) -> int:
    """Fit both models, compare them on held-out data, ship the linear one, write the files.
    The trees were no better held out (within a point) and, outside what they were trained on (a
    question sharing no word with any sentence), gave sentences p = 0.5: they are a baseline."""
    rows = np.vstack([i["rows"] for i in train])
    labels = np.concatenate([i["labels"] for i in train])
    models: dict[str, Any] = {"linear": fit_linear(rows, labels)}
    if not args.no_trees:
        models["trees"] = fit_trees(rows, labels, args.seed)
    compared = {name: held_out_scores(m, held) for name, m in models.items()}
    name = "linear"
    scores = question_scores(held, models[name].probabilities)
    refuse = compared[name]["refuse_below"] if args.refuse_below is None else args.refuse_below
    caveat = choose_caveat(scores, refuse) if args.caveat_below is None else args.caveat_below
    span_rows, span_labels, _ = span_data(train)
    span = fit_linear(span_rows, span_labels)
    floor, short_f1 = choose_span_floor(span, span_data(held)[2])
    gate, gate_figures, span_model = fit_gate_if_shipped(args, models[name], held)
    reader = Reader(models[name], refuse, caveat, gate, dense=not args.no_dense,
                    first_spans=SpanScorer(span, floor).to_dict())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(_rounded(reader.to_dict())) + "\n", encoding="utf-8")
    held_out = {"questions": len(held), "shipped": name, "models": compared,
                "short_f1_gold_sentence": round(short_f1, 4), "gate": gate_figures}
    write_manifest(args, files, pools, len(train), held_out, reader, span_model)
    print(json.dumps(held_out, indent=1))
    return 0


def fit_gate_if_shipped(args: argparse.Namespace, first: Any,
                        held: list[dict[str, Any]]) -> tuple[Any, dict[str, Any], str]:
    """The second stage over the shipped span model (`qa/reader/weights/span_model/`), its
    figures and the span model's sha256, unless `--no-gate`."""
    from qa.reader.spans import load_span_model
    from qa.training.train_gate import fit_gate

    spans = None if args.no_gate else load_span_model()
    if spans is None:
        return None, {}, ""
    started = time.perf_counter()
    gate, figures = fit_gate(held, first, spans, args.seed)
    print(f"gate fitted in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return gate, figures, spans.sha256


def write_manifest(args: argparse.Namespace, files: list[Path], pools: list[Pool], train: int,
                   held_out: dict[str, Any], reader: Reader, span_model: str) -> None:
    """The manifest beside the weights; with a gate, the sha256 of the span model it was fitted
    over (`span_model`), without which `qa.reader.load_reader` refuses the pair."""
    command = " ".join(["python -m qa.training.train_reader", *sys.argv[1:]])
    manifest = {"weights": args.out.name, "sha256": sha256(args.out),
                "command": command, "seed": args.seed,
                "squad_questions": args.questions, "features": SENTENCE_FEATURES,
                "thresholds": {"refuse_below": reader.refuse_below,
                               "caveat_below": reader.caveat_below,
                               "span_floor": reader.first_spans["span_floor"]},
                "data": [{"file": str(f.relative_to(args.train.parent)), "sha256": sha256(f)}
                         for f in files],
                "pools": {p.name: {"passages": len(p.texts), "questions": len(p.questions)}
                          for p in pools},
                "train_examples": train, "held_out": held_out}
    if reader.gate is not None:
        manifest["gate"] = {"thresholds": {k: v for k, v in reader.gate.to_dict().items()
                                           if k not in ("model", "features")},
                            "span_model_sha256": span_model}
    (args.out.parent / MANIFEST.name).write_text(json.dumps(manifest, indent=1) + "\n",
                                                 encoding="utf-8")


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


if __name__ == "__main__":
    from index.exits import run_cli

    sys.exit(run_cli(main))
