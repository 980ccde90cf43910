"""The int8 ONNX embedder: exported offline into a folder of our choosing, close to fp32 on real
text (cosine, same top document on real questions), tokenizing as the torch model does, and
chosen, refused or fallen back from by the precision setting as documented."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index import onnx_model
from index.embed import ModelError, load_embedder, model_path
from index.onnx_model import EXPORT_VERSION, META_FILE, MODEL_FILE, OnnxEmbeddings, read_meta
from index.settings import SettingError, read_settings
from qa.settings import ALL_SETTINGS
from tests.conftest import SAMPLES, SHARED

SQUAD = SHARED / "eval" / "squad2-dev-500"


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh export into a temporary folder, made the way a first run makes it."""
    folder = tmp_path_factory.mktemp("onnx") / "minilm-int8"
    assert onnx_model.ensure_exported(folder) == folder / MODEL_FILE
    return folder


@pytest.fixture(scope="session")
def int8(exported: Path) -> OnnxEmbeddings:
    return onnx_model.load_int8(folder=exported)


def sample_sentences() -> list[str]:
    """The sentences of a sample article, its title and boilerplate lines included."""
    from index.sentences import split_sentences

    text = (SAMPLES / "001_6af38f333212537e.txt").read_text(encoding="utf-8")
    return [text[a:b] for a, b in split_sentences(text)]


@pytest.mark.slow
def test_export_is_recorded_and_checked(exported: Path) -> None:
    meta = json.loads((exported / META_FILE).read_text())
    assert meta["version"] == EXPORT_VERSION and meta["min_cosine_to_fp32"] > 0.98
    assert meta["fused_ops"]["Attention"] == 6 and read_meta(exported) == meta
    assert sorted(p.name for p in exported.iterdir()) == [META_FILE, MODEL_FILE]
    assert not [p for p in exported.parent.iterdir() if p.name.startswith(".export-")]


@pytest.mark.slow
def test_int8_vectors_match_fp32_on_real_sentences(int8: OnnxEmbeddings, embedder: Any) -> None:
    texts = sample_sentences()
    a, b = np.array(embedder.embed_documents(texts)), np.array(int8.embed_documents(texts))
    assert a.shape == b.shape == (len(texts), 384) and int8.precision == "int8"
    cosine = (a * b).sum(axis=1)
    sentences = [len(t.split()) >= 5 for t in texts]  # a two-word line ("Share this!") drifts more
    assert cosine[sentences].min() > 0.98 and cosine.min() > 0.95 and cosine.mean() > 0.99
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-3)
    # one text per model call: a batch would share one int8 activation scale and couple its texts
    assert np.allclose(int8.embed_query(texts[3]), b[3], atol=1e-6)


@pytest.mark.slow
def test_int8_counts_tokens_as_the_torch_model(int8: OnnxEmbeddings, embedder: Any) -> None:
    texts = sample_sentences() + ["", "naïve café — 漢字 and emoji 🙂", "word " * 400]
    assert int8.count_tokens(texts) == embedder.count_tokens(texts)


def squad_subset(n_docs: int = 40) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    docs = [json.loads(line) for line in (SQUAD / "docs.jsonl").read_text().splitlines()[:n_docs]]
    ids = {d["id"] for d in docs}
    questions = [json.loads(line) for line in (SQUAD / "questions.jsonl").read_text().splitlines()]
    return docs, [q for q in questions if set(q.get("gold_doc_ids") or ()) & ids]


def top_docs(embedder: Any, docs: list[dict[str, Any]], questions: list[str]) -> list[str]:
    vectors = np.array(embedder.embed_documents([d["text"] for d in docs]))
    scores = np.array([embedder.embed_query(q) for q in questions]) @ vectors.T
    return [docs[i]["id"] for i in scores.argmax(axis=1)]


@pytest.mark.slow
def test_int8_retrieval_finds_the_same_top_document(int8: OnnxEmbeddings, embedder: Any) -> None:
    docs, questions = squad_subset()
    texts = [q["question"] for q in questions]
    assert len(texts) >= 40
    reference, ours = top_docs(embedder, docs, texts), top_docs(int8, docs, texts)
    same = sum(a == b for a, b in zip(reference, ours, strict=True))
    assert same >= 0.95 * len(texts)
    gold = [set(q["gold_doc_ids"]) for q in questions]
    hits = [sum(d in g for d, g in zip(found, gold, strict=True)) for found in (reference, ours)]
    assert abs(hits[0] - hits[1]) <= 1


def test_stale_or_foreign_exports_are_not_used(tmp_path: Path) -> None:
    assert read_meta(tmp_path) is None
    (tmp_path / MODEL_FILE).write_bytes(b"onnx")
    meta = {"version": EXPORT_VERSION, "weights_sha256": "0" * 64, "onnx_sha256": ""}
    (tmp_path / META_FILE).write_text(json.dumps(meta))
    assert read_meta(tmp_path) is None  # exported from other weights
    (tmp_path / META_FILE).write_text("{not json")
    assert read_meta(tmp_path) is None


@pytest.mark.slow
def test_a_changed_model_file_is_refused(exported: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / META_FILE).write_bytes((exported / META_FILE).read_bytes())
    (copy / MODEL_FILE).write_bytes((exported / MODEL_FILE).read_bytes()[:-1] + b"\0")
    with pytest.raises(ModelError, match="does not match its export record"):
        onnx_model.load_int8(folder=copy)


def test_precision_setting_accepts_int8_and_names_the_key() -> None:
    assert read_settings(ALL_SETTINGS, {"QA_EMBED_PRECISION": "int8"}).embed_precision == "int8"
    with pytest.raises(SettingError, match=r"QA_EMBED_PRECISION='int4' is invalid: expected auto, "
                                           r"fp32, bf16 or int8"):
        read_settings(ALL_SETTINGS, {"QA_EMBED_PRECISION": "int4"})


@pytest.mark.slow
def test_int8_that_cannot_be_had_fails_or_falls_back(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: Any) -> None:
    def unavailable(*args: Any, **kwargs: Any) -> None:
        raise ModelError("Cannot export the int8 model (no onnx)")

    monkeypatch.setattr("index.embed.load_int8", unavailable)
    monkeypatch.setattr("index.embed.int8_available", lambda: True)
    with pytest.raises(ModelError, match="no onnx"):
        load_embedder(precision="int8")
    fallback = load_embedder(precision="auto", path=model_path())
    assert fallback.precision in ("bf16", "fp32")
    assert "int8 embeddings unavailable" in capsys.readouterr().err


@pytest.mark.slow
def test_threads_embedding_at_once_get_the_sequential_vectors(int8: OnnxEmbeddings) -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = sample_sentences()
    groups = [texts[i::4] for i in range(4)] * 3
    expected = [int8.embed_documents(g) for g in groups]
    with ThreadPoolExecutor(6) as pool:
        found = list(pool.map(int8.embed_documents, groups))
    assert found == expected
