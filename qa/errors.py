"""Errors of answering, with messages meant for the person asking.

    QAError           anything the asker can fix
    ├── BadQuestion   empty or too long
    ├── EmptyStore    nothing indexed yet
    ├── NotFound      no such article
    └── Cancelled     the client went away; the work stopped
"""


class QAError(Exception):
    """A problem the asker can fix; str() is the message to show."""


class BadQuestion(QAError):
    """The question is empty or too long."""


class EmptyStore(QAError):
    """The store has no articles yet."""


class NotFound(QAError):
    """No stored article has that id."""


class Cancelled(QAError):
    """The client went away, so the work it asked for was stopped."""
