"""The one base of every error a person can act on, whichever layer raises it.

    AppError                    code, HTTP status; str() is the message for a human
    ├── index: ModelError 503, SettingError 500, StoreError 503 (StoreBusy 409)
    └── qa:    FilterError 400, QAError 400 (BadQuestion 400, EmptyStore 409, NotFound 404,
               Cancelled 499, LLMError 502), TemplateError 500

Each surface catches `AppError` once: the CLI prints `error: MESSAGE`, the API and the SSE error
event send `{"error": {"code", "message"}}` with `status`, the chat shows the message.
"""

from __future__ import annotations


class AppError(Exception):
    """An error with a message for a human, a machine-readable `code` and an HTTP `status`."""

    code = "error"
    status = 500
