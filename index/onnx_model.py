"""all-MiniLM-L6-v2 as int8 ONNX: exported once at install time, run with onnxruntime.

`python -m index.onnx_model export` (a step of `make setup`) exports the local model, offline and
deterministically (about 15 s): the legacy TorchScript exporter with eager attention (its graph is
what onnxruntime's BERT fusion recognises), BERT fusion, then dynamic int8 quantization (QInt8
per-channel weights; layer 0's FFN down-projection stays fp32, which costs nothing and halves the
error). The result is checked against the torch model on real sentences (cosine > 0.98) before it
is moved into place. It lives in the venv, `<sys.prefix>/share/qa/minilm-int8/`, never in the repo.

The graph mean-pools over the attention mask and L2-normalises, as sentence-transformers does for
this model, so `OnnxEmbeddings` is a drop-in for the torch embedder (cosine to fp32 about 0.995).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from index.model import (
    MAX_TOKENS,
    MODEL_NAME,
    WEIGHTS_SHA256,
    ModelError,
    check_weights,
    model_path,
    sentence_transformer,
)

EXPORT_VERSION = "1"  # bump when the export recipe changes, so installed exports are redone
MODEL_FILE, META_FILE = "model_int8.onnx", "export_meta.json"
OPSET = 17
FP32_LAYERS = (0,)  # FFN down-projections kept in fp32
MIN_COSINE = 0.98
# Texts per model call: one. Dynamic int8 quantization takes one activation scale per model call,
# so texts embedded together change each other's vectors (up to 0.016 per coordinate measured):
# one text per call makes a text's vector depend on the text alone, whatever it is embedded with
# (answers then don't vary with what else is being asked). It costs nothing: no padding at all.
# Measured on 250 squad2 articles, 2 threads, alternating: 6.8/6.3 s at 1 vs 8.9/6.6 s at 4; on
# the bench corpus, 1 thread: 11.8 s at 1, 12.1 s at 4, 12.8 s at 16, 13.9 s at 64.
MAX_BATCH = 1
CHECK_TEXTS = (
    "Zapata was shot to death at a fake roadblock.",
    "What did the cables say about Calderon?",
    "The Normans were the people who in the 10th and 11th centuries gave their name to Normandy,"
    " a region in France. They were descended from Norse raiders and pirates from Denmark,"
    " Iceland and Norway who, under their leader Rollo, agreed to swear fealty to King Charles"
    " III of West Francia.",
    "Coronaviruses are enveloped positive-sense RNA viruses; SARS-CoV-2 binds the ACE2 receptor.",
    "Which river flows through the capital?",
)


def default_dir() -> Path:
    """Where the install step puts the export: inside the running venv."""
    return Path(sys.prefix) / "share" / "qa" / "minilm-int8"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_meta(folder: Path) -> dict[str, Any] | None:
    """The export's metadata if `folder` holds a complete export of our model and recipe."""
    try:
        meta: dict[str, Any] = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    current = (meta.get("version") == EXPORT_VERSION
               and meta.get("weights_sha256") == WEIGHTS_SHA256 and (folder / MODEL_FILE).is_file())
    return meta if current else None


def _torch_wrapper(source: Path) -> Any:
    """BertModel + mask mean pooling + L2 normalisation, as one torch module to export."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()

    class SentenceEmbedding(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.m = bert

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.m(input_ids=input_ids, attention_mask=attention_mask,
                            token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    bert = AutoModel.from_pretrained(str(source), attn_implementation="eager",
                                     local_files_only=True)
    return SentenceEmbedding(bert.eval()).eval()


def _export_fp32(source: Path, path: Path) -> None:
    import torch

    model = _torch_wrapper(source)
    ids = (torch.arange(32, dtype=torch.int64).reshape(2, 16) % 1000) + 1000  # fixed: same bytes
    mask = torch.ones_like(ids)
    mask[1, 10:] = 0
    axes = {"batch": 0, "seq": 1}
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask), str(path), dynamo=False, opset_version=OPSET,
                          input_names=["input_ids", "attention_mask"],
                          output_names=["sentence_embedding"],
                          dynamic_axes={"input_ids": {v: k for k, v in axes.items()},
                                        "attention_mask": {v: k for k, v in axes.items()},
                                        "sentence_embedding": {0: "batch"}},
                          do_constant_folding=True)


def _fuse(fp32: Path, fused: Path, source: Path) -> dict[str, int]:
    """onnxruntime's BERT fusion (Attention, SkipLayerNorm, BiasGelu...); its operator counts."""
    from onnxruntime.transformers import optimizer
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(source), local_files_only=True)
    model = optimizer.optimize_model(str(fp32), model_type="bert",
                                     num_heads=config.num_attention_heads,
                                     hidden_size=config.hidden_size, opt_level=1, use_gpu=False)
    stats: dict[str, int] = dict(model.get_fused_operator_statistics())
    if stats.get("Attention", 0) != config.num_hidden_layers:
        raise ModelError(f"ONNX attention fusion failed: {stats}")
    model.save_model_to_file(str(fused))
    return stats


def _quantize(fused: Path, int8: Path) -> None:
    """Dynamic int8: QInt8 per-channel weights (per-tensor loses cosine 0.95 on this model)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    names = {node.name for node in onnx.load(str(fused), load_external_data=False).graph.node}
    keep = [f"/m/encoder/layer.{i}/output/dense/MatMul" for i in FP32_LAYERS]
    if missing := [n for n in keep if n not in names]:
        raise ModelError(f"nodes not found in the fused ONNX graph: {missing}")
    quantize_dynamic(str(fused), str(int8), weight_type=QuantType.QInt8, per_channel=True,
                     reduce_range=False, nodes_to_exclude=keep,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


def min_cosine(folder: Path, source: Path, texts: tuple[str, ...] = CHECK_TEXTS) -> float:
    """The lowest cosine between the export's vectors and sentence-transformers' fp32 ones."""
    reference = np.asarray(sentence_transformer(source).encode(list(texts),
                                                                normalize_embeddings=True))
    ours = np.array(OnnxEmbeddings(folder / MODEL_FILE, source).embed_documents(list(texts)))
    return float((reference * ours).sum(axis=1).min())


def export(folder: Path | None = None, source: Path | None = None, replace: bool = False) -> Path:
    """Export, fuse, quantize and check into `folder` (default: the venv's); return the model
    file. Built in a temporary sibling folder and moved into place only once checked."""
    folder, source = folder or default_dir(), source or model_path()
    check_weights(source)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".export-", dir=folder.parent) as tmp:
        work = Path(tmp)
        with warnings.catch_warnings():  # the legacy exporter's deprecation and tracer warnings
            warnings.simplefilter("ignore")
            logging.disable(logging.WARNING)  # the quantizer's advice to pre-process, on root
            try:
                _export_fp32(source, work / "fp32.onnx")
                stats = _fuse(work / "fp32.onnx", work / "fused.onnx", source)
                _quantize(work / "fused.onnx", work / "int8.onnx")
            finally:
                logging.disable(logging.NOTSET)
        staged = work / "out"
        staged.mkdir()
        (work / "int8.onnx").rename(staged / MODEL_FILE)
        cosine = min_cosine(staged, source)
        if cosine <= MIN_COSINE:
            raise ModelError(f"the int8 export drifted from the model: cosine {cosine:.4f}")
        meta = {"version": EXPORT_VERSION, "model": MODEL_NAME, "weights_sha256": WEIGHTS_SHA256,
                "onnx_sha256": _sha256(staged / MODEL_FILE), "opset": OPSET, "fused_ops": stats,
                "fp32_ffn_out_layers": list(FP32_LAYERS), "min_cosine_to_fp32": round(cosine, 5)}
        (staged / META_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")
        _install(staged, folder, replace)
    return folder / MODEL_FILE


def _install(staged: Path, folder: Path, replace: bool) -> None:
    """Move a checked export into place; a current export that another process installed
    meanwhile is kept (unless `replace`), so concurrent first runs don't pull files away."""
    if read_meta(folder) is not None and not replace:
        return
    if folder.exists():
        shutil.rmtree(folder)
    try:
        staged.rename(folder)
    except OSError:
        if read_meta(folder) is None:
            raise


def ensure_exported(folder: Path | None = None, source: Path | None = None) -> Path:
    """The exported model file, exporting it first (once, with a line on stderr) if missing."""
    folder = folder or default_dir()
    if read_meta(folder) is None:
        print(f"exporting the int8 embedding model to {folder} (once, about 15 s)",
              file=sys.stderr)
        try:
            export(folder, source)
        except ImportError as exc:
            raise ModelError(f"Cannot export the int8 model ({exc}): pip install onnx==1.23.2, "
                             "or set QA_EMBED_PRECISION=fp32") from None
        except OSError as exc:
            raise ModelError(f"Cannot export the int8 model into {folder}: {exc}") from None
    return folder / MODEL_FILE


class OnnxEmbeddings(Embeddings):
    """LangChain embeddings from the int8 ONNX model: mean-pooled, L2-normalised float32.

    Texts are tokenized once and embedded one per model call (see MAX_BATCH). Many texts are
    spread over `threads` concurrent single-threaded calls (onnxruntime releases the GIL), which
    beats one call at a time on `threads` threads by about 1.2x on 2 cores: a 160-token text is
    too little work to split well. A single text (a query) runs on all `threads` at once."""

    def __init__(self, model_file: Path, source: Path, batch_size: int = 64,
                 threads: int = 2) -> None:
        from tokenizers import Tokenizer

        self.name, self.precision, self.batch_size = MODEL_NAME, "int8", batch_size
        # tokenizer.json has truncation and padding to 128 built in; sentence-transformers
        # overrides both (window 256, pad to the longest), and so do we
        self.tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.counter = Tokenizer.from_file(str(source / "tokenizer.json"))
        self.counter.no_padding()
        self.counter.no_truncation()
        self.threads = threads
        self.wide = session(model_file, threads)  # one call using every thread
        self.narrow = session(model_file, 1) if threads > 1 else self.wide  # calls side by side

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist() if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """(len(texts), 384) float32 in input order."""
        ids = [e.ids for e in self.tokenizer.encode_batch(texts)]
        found = np.zeros((len(ids), 384), dtype=np.float32)
        if len(ids) < 2 or self.threads < 2:
            for i, piece in enumerate(ids):
                found[i] = self._run(self.wide, piece)
            return found
        from concurrent.futures import ThreadPoolExecutor

        # longest first, so no worker is left with one long text at the end
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
        with ThreadPoolExecutor(self.threads) as pool:
            vectors = pool.map(lambda i: self._run(self.narrow, ids[i]), order)
            for i, vector in zip(order, vectors, strict=True):
                found[i] = vector
        return found

    @staticmethod
    def _run(session: Any, ids: list[int]) -> np.ndarray:
        """One text's vector: one model call, no padding."""
        tokens = np.array([ids], dtype=np.int64)
        mask = np.ones_like(tokens)
        vectors: np.ndarray = session.run(None, {"input_ids": tokens, "attention_mask": mask})[0]
        return vectors[0]

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Word pieces per text, without the two special tokens the model adds."""
        return [len(e.ids) for e in self.counter.encode_batch(texts, add_special_tokens=False)]


def session(model_file: Path, threads: int) -> Any:
    """An onnxruntime session on `threads` threads whose idle threads sleep."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # idle threads sleep instead of spinning, as OMP_WAIT_POLICY=PASSIVE has torch's do: on
    # 2 shared cores spinning burns a core that Chroma's writes and other processes need
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])


def load_int8(batch_size: int = 64, folder: Path | None = None, source: Path | None = None,
              threads: int = 2) -> OnnxEmbeddings:
    """The int8 embedder from the installed export (exported now if missing)."""
    model_file = ensure_exported(folder, source)
    meta = read_meta(model_file.parent) or {}
    if _sha256(model_file) != meta.get("onnx_sha256"):
        raise ModelError(f"{model_file} does not match its export record; re-export it with "
                         "`python -m index.onnx_model export`")
    return OnnxEmbeddings(model_file, source or model_path(), min(batch_size, MAX_BATCH), threads)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m index.onnx_model", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["export", "check"],
                        help="export (again if present with --force), or check the installed one")
    parser.add_argument("--dir", type=Path, default=None, help="default: " + str(default_dir()))
    parser.add_argument("--force", action="store_true", help="export even if already exported")
    args = parser.parse_args(argv)
    folder = args.dir or default_dir()
    try:
        if args.command == "export" and (args.force or read_meta(folder) is None):
            start = time.perf_counter()
            export(folder, replace=True)
            print(f"exported {folder / MODEL_FILE} in {time.perf_counter() - start:.1f}s")
        meta = read_meta(folder)
        if meta is None:
            print(f"error: no current export in {folder}", file=sys.stderr)
            return 1
        print(f"{folder / MODEL_FILE}: cosine to fp32 >= {meta['min_cosine_to_fp32']}")
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    from index.exits import run_cli

    sys.exit(run_cli(main))
