"""Errors of answering, with messages meant for the person asking (see index.errors.AppError).

    QAError           anything the asker can fix
    ├── BadQuestion   empty or too long
    ├── EmptyStore    nothing indexed yet
    ├── NotFound      no such article
    ├── Cancelled     the client went away; the work stopped
    └── TooSlow       the answer ran past its time budget; the work stopped
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

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


class TooSlow(QAError):
    """The answer took longer than its budget (QA_ANSWER_SECONDS), so it was stopped."""

    code, status = "too_slow", 503


@dataclass(frozen=True)
class Budget:
    """The time one answer may take from when its question arrived: `check()` between stages
    raises TooSlow once it is spent, so no question holds a worker for long. Wall-clock seconds:
    the embedding and span models run in their own threads, so a question's CPU time can't be
    told apart from its neighbours'; what a question may cost in work is bounded by the caps on
    its size (question, history, k, passages read) instead."""

    seconds: float
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=-1.0)

    def __post_init__(self) -> None:
        if self.started < 0:
            object.__setattr__(self, "started", self.clock())

    def spent(self) -> bool:
        return self.clock() - self.started > self.seconds

    def check(self) -> None:
        if self.spent():
            raise TooSlow(f"This question took more than {self.seconds:g} s to answer, so it was "
                          "stopped: ask a shorter question, with fewer passages (k), or try again "
                          "when the service is less busy")


NO_BUDGET = Budget(float("inf"))
