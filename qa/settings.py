"""Settings of answering and serving, declared like the store's (see index.settings), read once."""

from __future__ import annotations

from index.settings import STORE_SETTINGS, Setting, positive_int


def origins(raw: str) -> tuple[str, ...]:
    """Space- or comma-separated CSP sources such as 'self' https://wiki.example.com."""
    values = tuple(v for v in raw.replace(",", " ").split() if v)
    bad = [v for v in values if any(c in v for c in ";\"<>")]
    if bad:
        raise ValueError(f"not a CSP source: {bad[0]!r}")
    return values


ANSWER_SETTINGS = (
    Setting("QA_K", positive_int, 5, "Passages retrieved per question."),
    Setting("QA_MAX_QUESTION_CHARS", positive_int, 2000, "Longest question accepted."),
)
SERVE_SETTINGS = (
    Setting("QA_FRAME_ANCESTORS", origins,
            ("'self'", "http://localhost:*", "http://127.0.0.1:*"),
            "Origins allowed to frame the pages (CSP frame-ancestors), e.g. https://wiki.corp."),
    Setting("QA_MAX_UPLOAD_MB", positive_int, 20, "Largest upload request accepted, in MB."),
    Setting("QA_CONCURRENCY", positive_int, 4, "Chat answers computed at once per page."),
)
ALL_SETTINGS = STORE_SETTINGS + ANSWER_SETTINGS + SERVE_SETTINGS
