"""The answerers, one module each, by the name a backend is chosen by (`qa.answerers.registry`):
`extractive` (the reader's sentences, no LLM), `llamacpp` and `openai` (an LLM's answer, checked).

    events = answerer("extractive", Needs(embedder, idf)).answer(question, query, passages)

A new answerer is a module here that registers itself, imported below, with its name added to
`qa.llm.BACKENDS` (tests/qa/test_answerers.py checks that the two agree).
"""

from __future__ import annotations

from qa.answerers import extractive, generative
from qa.answerers.registry import ANSWERERS, Answerer, Needs, answerer, register

__all__ = ["ANSWERERS", "Answerer", "Needs", "answerer", "extractive", "generative", "register"]
