"""Errors of answering, with messages meant for the person asking (see index.errors.AppError).

    QAError           anything the asker can fix
    ├── BadQuestion   empty or too long
    ├── EmptyStore    nothing indexed yet
    ├── NotFound      no such article
    └── Cancelled     the client went away; the work stopped
"""


from index.errors import AppError


class QAError(AppError):
    """A problem the asker can fix; str() is the message to show."""

    code, status = "bad_request", 400


class BadQuestion(QAError):
    """The question is empty, too long or not text; or the conversation is too long."""

    code = "bad_question"


class EmptyStore(QAError):
    """The store has no articles yet."""

    code, status = "empty_store", 409


class NotFound(QAError):
    """No stored article has that id."""

    code, status = "not_found", 404


class Cancelled(QAError):
    """The client went away, so the work it asked for was stopped."""

    code, status = "cancelled", 499
