"""How every command line (`python -m index|qa|ui`, the measuring and training scripts) ends:
`sys.exit(run_cli(main))`, so that a reader that stops early (`python -m index list | head -5`)
ends the command quietly, as `cat` would, rather than with a BrokenPipeError traceback."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

BROKEN_PIPE = 141  # what a shell reports for a command ended by SIGPIPE (128 + 13)


def run_cli(main: Callable[[], int | None]) -> int:
    """main()'s exit status; 141, silently, when whoever reads stdout closed it early."""
    try:
        try:
            status = main()
        except SystemExit:  # argparse's --help and usage errors end this way
            sys.stdout.flush()
            raise
        sys.stdout.flush()  # inside the try: a failed flush at exit would print a traceback
    except BrokenPipeError:
        quiet_stdout()
        return BROKEN_PIPE
    return status or 0


def quiet_stdout() -> None:
    """Point stdout at devnull, so that Python's flush at exit writes nowhere instead of
    reporting the closed pipe a second time."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is no real file (replaced, closed)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    finally:
        os.close(devnull)
