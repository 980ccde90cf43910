"""`python -m qa.measuring.eval --docs DOCS.jsonl --questions QUESTIONS.jsonl [--k 10] [--json]`

Index the documents (into a temporary store, or `--store`), ask every question of our pipeline and,
in the same run, of two baselines, and print their metrics side by side:

    ours   hybrid retrieval (dense + BM25, score fusion) over sentence chunks, our answerer
           (extractive, or the `--backend` LLM with verified citations)
    bm25   BM25 alone over the same chunks, the extractive answerer
    bm25-article  whole articles ranked by BM25, each passing on its best chunk (by the chunks'
           BM25), the extractive answerer
    naive  the LangChain tutorial: RecursiveCharacterTextSplitter(1000, 200), the same MiniLM in
           fp32 (sentence-transformers, as the tutorial runs it), Chroma similarity search top k;
           the extractive answerer on what it finds
    before our retrieval with the answerer before the learned reader (a fixed cosine + coverage
           mix): today's numbers in the same run (`--pipelines ours,before`)
    first  our retrieval with the reader's first stage alone (no span model gate): the reader
           as it was before the span model

`--drop-gold 0.5 --seed 0` leaves out the gold articles of half the answerable questions (those
become unanswerable: realistic refusals). answer_recall / answer_has_gold are also reported among
the questions whose gold article was retrieved (`_retrieved`); answer_f1 and exact_match are taken
on the short answer where one is given.

The baselines share our answerer so that their answer and refusal scores measure what retrieval
hands it. The files use the ../shared/eval format (see PROVENANCE.md there).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from qa.measuring.metrics import Outcome, answer_recall, best_f1_em, has_gold, ranking, summarize
from qa.metrics import normalize
from qa.settings import Settings, add_backend_flags
from qa.settings import load as load_settings
from qa.types import Answer, Passage

PIPELINES = ("ours", "bm25", "bm25-article", "naive", "before", "first")
DEFAULT_PIPELINES = "ours,bm25,naive"
NAIVE_CHUNK, NAIVE_OVERLAP = 1000, 200
Ask = Callable[[str], Answer]


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    gold_doc_ids: frozenset[str]
    answerable: bool


def read_questions(path: Path, limit: int | None = None) -> list[Question]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [Question(str(r["id"]), r["question"], tuple(r.get("answers") or ()),
                     frozenset(r.get("gold_doc_ids") or ()), bool(r.get("answerable", True)))
            for r in rows[:limit]]


def half(question_id: str) -> int:
    """Which half of a set a question is in (0 or 1), by its id's sha256: news-dev-2023's half 0
    calibrates (weights, thresholds), half 1 reports."""
    return int(hashlib.sha256(question_id.encode("utf-8")).hexdigest()[:8], 16) % 2


def judge(question: Question, result: Answer, seconds: float) -> Outcome:
    """Score one answer against the question's gold documents and answers; F1 and exact match
    are taken on the short answer where there is one, on the answer text otherwise."""
    doc_ids = [p.doc_id for p in result.passages]
    rank = ranking(doc_ids, set(question.gold_doc_ids)) if question.gold_doc_ids else {}
    said = result.answer if result.answerable else ""
    f1, em = best_f1_em(result.short or said, question.answers) if said else (0.0, 0.0)
    golds = [normalize(a) for a in question.answers]
    with_answer = sum(any(g and g in normalize(c.quote) for g in golds) for c in result.citations)
    return Outcome(question.answerable, not result.answerable, rank, f1, em,
                   len(result.citations), with_answer, seconds,
                   answer_recall(said, question.answers), has_gold(said, question.answers),
                   bool(set(doc_ids) & question.gold_doc_ids))


def drop_gold(docs: Path, questions: Sequence[Question], fraction: float, seed: int,
              out: Path) -> list[Question]:
    """Leave out of `out` (a copy of `docs`) the gold articles of a seeded `fraction` of the
    answerable questions and mark those unanswerable. The sample is drawn by gold article (a
    `fraction` of the answerable questions' articles, with all their questions), so no question
    whose gold article answers a kept question is marked unanswerable; a question with several
    gold articles, some dropped and some kept, is left out. Questions that were unanswerable
    already are left out too: the refusals measured are of gold-removed questions only."""
    answerable = [q for q in questions if q.answerable and q.gold_doc_ids]
    articles = sorted({d for q in answerable for d in q.gold_doc_ids})
    gone = set(random.Random(seed).sample(articles, round(fraction * len(articles))))
    lines = [x for x in docs.read_text(encoding="utf-8").splitlines()
             if x and json.loads(x)["id"] not in gone]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [replace(q, answerable=False) if q.gold_doc_ids <= gone else q
            for q in answerable if q.gold_doc_ids <= gone or not q.gold_doc_ids & gone]


def run(ask: Ask, questions: Sequence[Question], label: str,
        dump: Path | None = None) -> dict[str, float | None]:
    """Ask every question; with `dump`, one JSON line per question (its outcome and the reader's
    confidence) is appended there, for choosing thresholds on a tuning set."""
    from tqdm import tqdm

    outcomes = []
    for q in tqdm(questions, desc=label, unit="q", file=sys.stderr, leave=False):
        start = time.perf_counter()
        result = ask(q.question)
        outcomes.append(judge(q, result, time.perf_counter() - start))
        if dump is not None:
            with dump.open("a", encoding="utf-8") as out:
                out.write(json.dumps({"pipeline": label, "id": q.id, "answerable": q.answerable,
                                      "refused": not result.answerable, "reason": result.reason,
                                      "confidence": result.confidence,
                                      "f1": outcomes[-1].f1, "recall": outcomes[-1].recall}) + "\n")
    return summarize(outcomes)


def pipelines(service: Any, naive: Any, k: int) -> dict[str, Ask]:
    """The askers over one store: ours (the service) and the baselines; each answerer caches its
    own sentence embeddings, as the service does, so latencies compare."""
    from langchain_core.runnables import RunnableLambda

    from qa.embed_cache import CachedEmbeddings
    from qa.measuring.article_bm25 import article_search
    from qa.measuring.baselines import answer, answer_heuristic, first_stage_reader
    from qa.retrieve import LexicalRetriever, to_passage

    corpus = service.corpus()
    retriever = LexicalRetriever(corpus=corpus, k=k)

    def reading(passages: Callable[[str], list[Passage]], reader: Any = None) -> Ask:
        """Our extractive answerer over what `passages` finds, with its own embeddings cache."""
        sentences, found = CachedEmbeddings(service.embedder), RunnableLambda(passages)
        return lambda q: answer(q, found, sentences, corpus.bm25.idf, reader)

    ours = RunnableLambda(lambda text: service.retrieve(text, k))
    before_sentences = CachedEmbeddings(service.embedder)
    return {
        "ours": lambda q: service.ask(q, k=k),
        "bm25": reading(lambda q: [to_passage(d, str(d.id), 0.0) for d in retriever.invoke(q)]),
        "bm25-article": reading(lambda q: article_search(q, corpus, k)),
        "naive": reading(lambda q: naive_search(naive, q, k)),
        # our retrieval, the answerer before the reader
        "before": lambda q: answer_heuristic(q, ours, before_sentences, corpus.bm25.idf),
        # our retrieval, the reader's first stage alone (no span gate)
        "first": reading(lambda q: service.retrieve(q, k), first_stage_reader()),
    }


def reader_latency(service: Any, questions: Sequence[Question], k: int) -> dict[str, float]:
    """p50/p95 of the reader step alone (retrieval excluded) at `k` passages: cold (the
    passages' sentences embedded for the first time) and warm (their embeddings cached, as the
    service's are for sentences it has seen)."""
    import numpy as np

    from qa.answerers.extractive import default_reader, read
    from qa.embed_cache import CachedEmbeddings

    corpus, reader = service.corpus(), default_reader()
    sentences = CachedEmbeddings(service.embedder)
    times: dict[str, list[float]] = {"cold": [], "warm": []}
    for q in questions:
        passages = service.retrieve(q.question, k)
        for label in ("cold", "warm"):
            start = time.perf_counter()
            read(q.question, passages, sentences, corpus.bm25.idf, reader)
            times[label].append((time.perf_counter() - start) * 1000)
    return {f"reader_{label}_p{n}_ms": round(float(np.percentile(t, n)), 1)
            for label, t in times.items() for n in (50, 95)}


def index_naive(articles: Sequence[Any], embedder: Any, client: Any) -> Any:
    """The tutorial's index: 1000/200 character chunks, embedded into their own collection."""
    from langchain_chroma import Chroma
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from index.store import batches

    splitter = RecursiveCharacterTextSplitter(chunk_size=NAIVE_CHUNK, chunk_overlap=NAIVE_OVERLAP,
                                              add_start_index=True)
    documents = splitter.create_documents(
        [a.text for a in articles],
        [{"doc_id": a.doc_id, "title": a.title, "source": a.source, "date": a.date}
         for a in articles])
    store = Chroma(client=client, collection_name="naive_chunks", embedding_function=embedder,
                   collection_metadata={"hnsw:space": "cosine"})
    for part in batches(client, len(documents)):  # Chroma refuses over 5461 records a call
        store.add_documents(documents[part.start : part.stop], ids=[f"naive-{i}" for i in part])
    return store


def naive_search(store: Any, question: str, k: int) -> list[Passage]:
    found = store.similarity_search_with_score(question, k=k)
    return [Passage(d.metadata["doc_id"], str(d.id), d.metadata["title"], d.metadata["source"],
                    d.metadata["date"], d.page_content, d.metadata["start_index"],
                    d.metadata["start_index"] + len(d.page_content), round(1 - float(s), 6))
            for d, s in found]


def evaluate(docs: Path, questions: list[Question], store_dir: str, settings: Settings,
             k: int, names: Sequence[str] = PIPELINES,
             reader_k: int = 0, dump: Path | None = None) -> dict[str, dict[str, float | None]]:
    """Index, build the three pipelines, run every question through each."""
    from index.add import add_paths
    from index.embed import MODEL_NAME, load_embedder
    from index.load import load_paths
    from index.store import open_store
    from qa.llm import chat_model
    from qa.service import Service, backend_from

    embedder = load_embedder(settings.embed_batch, precision=settings.embed_precision)
    store = open_store(store_dir, None, MODEL_NAME)
    report = add_paths([str(docs)], store, embedder)
    print(f"indexed: {report.summary()} ({embedder.precision} embeddings)", file=sys.stderr)
    naive = None
    if "naive" in names:
        articles = [a for loaded, _ in load_paths([str(docs)]) for a in loaded]
        tutorial = embedder if embedder.precision == "fp32" else load_embedder(precision="fp32")
        naive = index_naive(articles, tutorial, store.client)
    backend = backend_from(settings)
    service = Service(store, embedder, k, settings.max_question_chars, backend,
                      chat_model(backend))
    results = {name: run(ask, questions, name, dump)
               for name, ask in pipelines(service, naive, k).items() if name in names}
    if reader_k:
        results["reader"] = {**reader_latency(service, questions, reader_k),
                             "k": float(reader_k)}
    return results


def render_table(results: dict[str, dict[str, float | None]]) -> str:
    names = list(results)
    metrics = list(dict.fromkeys(m for n in names for m in results[n]))
    lines = [f"{'metric':<26}" + "".join(f"{n:>10}" for n in names)]
    for m in metrics:
        cells = (results[n].get(m) for n in names)
        lines.append(f"{m:<26}" + "".join(f"{'n/a' if v is None else round(v, 3):>10}"
                                          for v in cells))
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m qa.measuring.eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=Path, required=True, help="docs.jsonl (id, title, text)")
    parser.add_argument("--questions", type=Path, required=True, help="questions.jsonl")
    parser.add_argument("--k", type=int, default=10, help="passages retrieved per question")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--store", help="index into this store folder (default: a temporary one)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--drop-gold", type=float, default=0.0, metavar="FRACTION",
                        help="leave out the gold articles of this share of the answerable "
                             "questions, which become unanswerable (see drop_gold)")
    parser.add_argument("--seed", type=int, default=0, help="the seed of --drop-gold's sample")
    parser.add_argument("--dump", type=Path, help="append one JSON line per question here")
    parser.add_argument("--offset", type=int, default=0, help="skip the first N questions")
    parser.add_argument("--half", type=int, choices=(0, 1),
                        help="only the questions of this half (see `half`): news-dev-2023's "
                             "half 0 calibrates, half 1 reports")
    parser.add_argument("--reader-latency", type=int, default=0, metavar="K",
                        help="also time the reader step alone over K passages per question")
    parser.add_argument("--pipelines", default=DEFAULT_PIPELINES,
                        help=f"comma-separated, of {', '.join(PIPELINES)}")
    add_backend_flags(parser)
    return parser


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    """The arguments, checked (a usage error exits), and the pipelines named."""
    parser = build_parser()
    args = parser.parse_args(argv)
    for path in (args.docs, args.questions):
        if not path.is_file():
            parser.error(f"{path} is not a file")
    if args.k < 1:
        parser.error("--k must be at least 1")
    if not 0 <= args.drop_gold < 1:
        parser.error("--drop-gold must be a fraction, at least 0 and below 1")
    names = [n.strip() for n in args.pipelines.split(",") if n.strip()]
    if not names or set(names) - set(PIPELINES):
        parser.error(f"--pipelines takes names of {', '.join(PIPELINES)}")
    return args, names


def main(argv: list[str] | None = None) -> int:
    args, names = parse_args(argv)
    from qa.errors import QAError

    try:
        settings = load_settings(args=args)
        questions = read_questions(args.questions, args.limit)[args.offset:]
        if args.half is not None:
            questions = [q for q in questions if half(q.id) == args.half]
        with tempfile.TemporaryDirectory(prefix="qa-eval-") as tmp:
            docs = args.docs
            if args.drop_gold:
                docs = Path(tmp) / "docs.jsonl"
                questions = drop_gold(args.docs, questions, args.drop_gold, args.seed, docs)
            results = evaluate(docs, questions, args.store or f"{tmp}/store", settings,
                               args.k, names, args.reader_latency, args.dump)
    except (QAError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(results, indent=2) if args.json else render_table(results))
    return 0


if __name__ == "__main__":
    from index.exits import run_cli

    sys.exit(run_cli(main))
