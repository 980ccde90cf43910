"""Settings of answering, declared like the store's (see index.settings) and read once."""

from __future__ import annotations

from index.settings import STORE_SETTINGS, Setting, positive_int

ANSWER_SETTINGS = (
    Setting("QA_K", positive_int, 5, "Passages retrieved per question."),
    Setting("QA_MAX_QUESTION_CHARS", positive_int, 2000, "Longest question accepted."),
)
ALL_SETTINGS = STORE_SETTINGS + ANSWER_SETTINGS
