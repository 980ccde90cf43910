"""bf16 embeddings (where the CPU has bfloat16) stay within rounding of fp32 ones; the precision
setting (int8 is tested in test_onnx_model.py)."""

from __future__ import annotations

import numpy as np
import pytest

from index.embed import load_embedder, resolve_precision
from index.settings import SettingError, read_settings
from qa.settings import ALL_SETTINGS

TEXTS = ["Zapata was shot to death at a fake roadblock.", "The cables praised Calderon.",
         "A much longer sentence about drug trafficking organizations in Mexico " * 5]


@pytest.mark.slow
def test_bf16_embeddings_match_fp32(embedder) -> None:  # type: ignore[no-untyped-def]
    bf16 = load_embedder(precision="bf16")
    a, b = np.array(embedder.embed_documents(TEXTS)), np.array(bf16.embed_documents(TEXTS))
    assert a.shape == b.shape == (3, 384) and embedder.precision == "fp32"
    assert (a * b).sum(axis=1).min() > 0.999
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-3)


def test_precision_setting() -> None:
    assert resolve_precision("fp32") == "fp32" and resolve_precision("int8") == "int8"
    assert resolve_precision("auto") in ("fp32", "bf16", "int8")
    assert read_settings(ALL_SETTINGS, {}).embed_precision == "auto"
    with pytest.raises(SettingError, match="QA_EMBED_PRECISION='fp16' is invalid"):
        read_settings(ALL_SETTINGS, {"QA_EMBED_PRECISION": "fp16"})
