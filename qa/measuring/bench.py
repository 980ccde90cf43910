"""`python -m qa.measuring.bench --docs DOCS.jsonl [--sizes 1000 10000 100000] [--out FILE.md]`

Measures, in one run on this machine:

- indexing throughput of our indexer (load, clean, sentence chunks, embed, store) against the
  naive LangChain pipeline (RecursiveCharacterTextSplitter 1000/200, the same MiniLM, Chroma) on
  the same articles, in article words per second and chunks per second, alternating the two
  `--rounds` times and keeping each one's best round, and the ratio (also per round: median and
  spread);
- query latency p50/p95 of retrieval (query embedding, Chroma, BM25, fusion; the answerer excluded)
  at each store size, on synthetic chunks (sentences of the corpus recombined, random unit vectors);
- peak memory (RSS) and store size on disk.

It rewrites the part of `--out` between `<!-- bench:start -->` and `<!-- bench:end -->` with
tables, and saves a plot beside it (PNG).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from qa.measuring.eval import NAIVE_CHUNK, NAIVE_OVERLAP, index_naive
from qa.measuring.report import write_between
from qa.settings import ALL_SETTINGS

ROOT = Path(__file__).resolve().parents[2]  # the repository
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
CHUNKS_PER_ARTICLE = 8
ARTICLES_PER_WRITE = 1000  # synthetic articles per `Store.put_many` call
# the instruction sets that decide how fast int8 and bf16 run: with VNNI an int8 multiply-add is
# one instruction; with AVX2 alone it takes three, one of them saturating (onnxruntime's MLAS)
ISA_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8")


def cpu_summary(cpuinfo: str | None = None) -> str:
    """'MODEL (cores; flags)' from /proc/cpuinfo, e.g. 'AMD EPYC (2 cores; avx2)': benchmark
    ratios depend on it, so every result says where it was measured."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            cpuinfo = ""
    fields: dict[str, str] = {}
    for line in cpuinfo.split("\n\n", 1)[0].splitlines():  # the first processor's block
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    model = fields.get("model name") or platform.processor() or "unknown CPU"
    flags = [f for f in ISA_FLAGS if f in fields.get("flags", "").split()]
    return f"{model} ({os.cpu_count()} cores; {', '.join(flags) or 'no AVX2'})"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def index_ours(docs: Path, embedder: Any, folder: str) -> dict[str, float]:
    from index.add import add_paths
    from index.embed import MODEL_NAME
    from index.store import folder_size, open_store

    store = open_store(folder, None, MODEL_NAME)
    start = time.perf_counter()
    report = add_paths([str(docs)], store, embedder)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "chunks": report.chunks, "words": report.words,
            "store_mb": folder_size(folder) / 2**20}


def index_baseline(docs: Path, embedder: Any, folder: str) -> dict[str, float]:
    import chromadb

    from index.load import load_paths
    from index.store import folder_size

    articles = [a for loaded, _ in load_paths([str(docs)]) for a in loaded]
    client = chromadb.PersistentClient(path=folder)
    start = time.perf_counter()
    naive = index_naive(articles, embedder, client)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "chunks": naive._collection.count(),
            "words": sum(len(a.text.split()) for a in articles),
            "store_mb": folder_size(folder) / 2**20}


def bench_indexing(docs: Path, ours: Any, naive: Any, rounds: int
                   ) -> dict[str, dict[str, float]]:
    """Best of `rounds` alternating runs of each indexer, each into a fresh store; `ours` and
    `naive` are their embedders (the tutorial's is sentence-transformers in fp32). Each round's
    ratio (naive seconds / ours) is kept too: on a noisy machine their median and spread say more
    than one pair of best times."""
    best: dict[str, dict[str, float]] = {}
    ratios = []
    for _ in range(rounds):
        seconds = {}
        for name, run, embedder in (("naive", index_baseline, naive), ("ours", index_ours, ours)):
            with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as folder:
                result = run(docs, embedder, folder)
            seconds[name] = result["seconds"]
            if name not in best or result["seconds"] < best[name]["seconds"]:
                best[name] = result
        ratios.append(seconds["naive"] / seconds["ours"])
    for result in best.values():
        result["words_per_s"] = result["words"] / result["seconds"]
        result["chunks_per_s"] = result["chunks"] / result["seconds"]
    best["ours"].update(round_ratio_median=float(np.median(ratios)),
                        round_ratio_min=min(ratios), round_ratio_max=max(ratios))
    return best


def pieces_per_word(docs: Path, embedder: Any) -> dict[str, float]:
    """Word pieces each indexer hands the model per article word: the work per word, with the
    special tokens and the overlaps, without padding (the window cuts the naive chunks at 256)."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from index.chunk import chunk_article
    from index.embed import MAX_TOKENS
    from index.load import load_paths

    articles = [a for loaded, _ in load_paths([str(docs)]) for a in loaded]
    words = sum(len(a.text.split()) for a in articles)
    splitter = RecursiveCharacterTextSplitter(chunk_size=NAIVE_CHUNK, chunk_overlap=NAIVE_OVERLAP)
    chunks = [c for a in articles for c in chunk_article(a, embedder.count_tokens)]
    texts = {"ours": [c.embed_text for c in chunks],
             "naive": [t for a in articles for t in splitter.split_text(a.text)]}
    return {name: sum(min(n + 2, MAX_TOKENS) for n in embedder.count_tokens(found)) / words
            for name, found in texts.items()}


def synthetic_store(size: int, sentences: list[str], folder: str, seed: int = 0) -> Any:
    """A store of `size` chunks made of corpus sentences, with random unit vectors, written
    through the store's API (`Store.put_many`) as articles of `CHUNKS_PER_ARTICLE` chunks."""
    from index.embed import MODEL_NAME
    from index.store import open_store

    store = open_store(folder, None, MODEL_NAME)
    rng = random.Random(seed)
    vectors = np.random.default_rng(seed).standard_normal((size, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = [" ".join(rng.sample(sentences, 3)) for _ in range(size)]
    step = ARTICLES_PER_WRITE * CHUNKS_PER_ARTICLE
    for lo in range(0, size, step):
        store.put_many([synthetic_article(first // CHUNKS_PER_ARTICLE,
                                          texts[first : first + CHUNKS_PER_ARTICLE],
                                          vectors[first : first + CHUNKS_PER_ARTICLE].tolist())
                        for first in range(lo, min(size, lo + step), CHUNKS_PER_ARTICLE)])
    return store


def synthetic_article(number: int, texts: list[str], vectors: list[list[float]]) -> Any:
    """One synthetic article whose chunks are `texts` (joined by spaces), as `put_many` takes it."""
    from index.types import Article, Chunk

    doc_id, chunks, start = f"syn-{number}", [], 0
    for index, text in enumerate(texts):
        chunks.append(Chunk(f"{doc_id}-{index}", doc_id, index, start, start + len(text), text,
                            text))
        start += len(text) + 1
    return Article(doc_id, "", " ".join(texts), "synthetic"), chunks, vectors, "syn"


def bench_queries(size: int, sentences: list[str], questions: list[str], embedder: Any
                  ) -> dict[str, float]:
    """Retrieval latency over a synthetic store of `size` chunks (first query excluded)."""
    from index.store import folder_size
    from qa.service import Service

    with tempfile.TemporaryDirectory(prefix="bench-q-") as folder:
        start = time.perf_counter()
        store = synthetic_store(size, sentences, folder)
        build = time.perf_counter() - start
        service = Service(store, embedder, k=5)
        start = time.perf_counter()
        service.corpus()
        corpus_seconds = time.perf_counter() - start
        times = []
        for question in questions:
            start = time.perf_counter()
            service.retrieve(question, 5)
            times.append(time.perf_counter() - start)
        store_mb = folder_size(folder) / 2**20
    ms = np.array(times[1:]) * 1000
    return {"chunks": size, "p50_ms": float(np.percentile(ms, 50)),
            "p95_ms": float(np.percentile(ms, 95)), "write_s": build,
            "bm25_build_s": corpus_seconds, "store_mb": store_mb, "peak_rss_mb": peak_rss_mb()}


def corpus_sentences(docs: Path) -> list[str]:
    from index.load import load_paths
    from index.sentences import split_sentences

    texts = [a.text for loaded, _ in load_paths([str(docs)]) for a in loaded]
    return [t[a:b] for t in texts for a, b in split_sentences(t) if len(t[a:b].split()) > 4]


def render(indexing: dict[str, dict[str, float]], queries: list[dict[str, float]],
           plot: str, docs: Path, precision: str = "") -> str:
    ours, naive = indexing["ours"], indexing["naive"]
    ratio = ours["words_per_s"] / naive["words_per_s"]
    lines = [START, "", "Generated by `python -m qa.measuring.bench` on "
             f"{time.strftime('%Y-%m-%d')} "
             f"({docs.parent.name}, on {cpu_summary()}; one run, ratios are what to "
             "compare). "
             f"Embeddings: ours {precision or 'as configured'}, naive fp32 sentence-transformers; "
             f"each indexer's best of the alternating rounds.", "",
             "| indexer | seconds | chunks | article words/s | chunks/s | word pieces / word "
             "| store MB |", "|---|---|---|---|---|---|---|"]
    for name, r in (("ours", ours), ("naive (LangChain tutorial)", naive)):
        lines.append(f"| {name} | {r['seconds']:.1f} | {r['chunks']:.0f} | "
                     f"{r['words_per_s']:.0f} | {r['chunks_per_s']:.1f} | "
                     f"{r.get('pieces_per_word', float('nan')):.2f} | {r['store_mb']:.1f} |")
    lines += ["", f"**Indexing throughput ratio (ours / naive, article words per second): "
              f"{ratio:.2f}x** (best against best); round by round: median "
              f"{ours.get('round_ratio_median', ratio):.2f}x, "
              f"{ours.get('round_ratio_min', ratio):.2f}-{ours.get('round_ratio_max', ratio):.2f}x "
              "over the rounds", "",
              "| chunks | retrieval p50 ms | p95 ms | BM25 build s | store MB | peak RSS MB |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {q['chunks']:,.0f} | {q['p50_ms']:.1f} | {q['p95_ms']:.1f} | "
              f"{q['bm25_build_s']:.1f} | {q['store_mb']:.0f} | {q['peak_rss_mb']:.0f} |"
              for q in queries]
    lines += ["", f"![indexing and query latency]({plot})", "", END]
    return "\n".join(lines)


def save_plot(indexing: dict[str, dict[str, float]], queries: list[dict[str, float]],
              path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    names = list(indexing)
    left.bar(names, [indexing[n]["words_per_s"] for n in names], color=["#999", "#e67e22"])
    left.set_ylabel("article words / s")
    left.set_title("Indexing throughput")
    sizes = [q["chunks"] for q in queries]
    right.plot(sizes, [q["p50_ms"] for q in queries], "o-", label="p50")
    right.plot(sizes, [q["p95_ms"] for q in queries], "s-", label="p95")
    right.axhline(50, color="red", linestyle=":", label="target p95 50 ms")
    right.set_xscale("log")
    right.set_xlabel("chunks in the store")
    right.set_ylabel("retrieval ms")
    right.set_title("Query latency (answerer excluded)")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.measuring.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=Path, required=True,
                        help="corpus (docs.jsonl), e.g. ../shared/eval/squad2-dev-500/docs.jsonl")
    parser.add_argument("--questions", type=int, default=60, help="queries per store size")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--rounds", type=int, default=5, help="indexing runs of each pipeline")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    if not args.docs.is_file():
        parser.error(f"{args.docs} is not a file")
    from index.embed import load_embedder
    from index.settings import read_settings

    precision = read_settings(ALL_SETTINGS).embed_precision
    embedder = load_embedder(precision=precision)
    indexing = bench_indexing(args.docs, embedder, load_embedder(precision="fp32"), args.rounds)
    for name, pieces in pieces_per_word(args.docs, embedder).items():
        indexing[name]["pieces_per_word"] = pieces
    print(f"our embeddings: {embedder.precision}", file=sys.stderr)
    print(f"indexing: {indexing}", file=sys.stderr)
    sentences = corpus_sentences(args.docs)
    questions = random.Random(1).sample(sentences, min(args.questions, len(sentences)))
    queries = []
    for size in args.sizes:
        queries.append(bench_queries(size, sentences, questions, embedder))
        print(f"queries: {queries[-1]}", file=sys.stderr)
    plot = args.out.with_suffix(".png")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_plot(indexing, queries, plot)
    section = render(indexing, queries, plot.name, args.docs, embedder.precision)
    write_between(args.out, section, START, END)
    print(section)
    return 0


if __name__ == "__main__":
    from index.exits import run_cli

    sys.exit(run_cli(main))
