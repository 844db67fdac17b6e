"""SIGTERM as an exception, held back while buffered data is being moved or written.

mloop's SIGTERM and SIGHUP handlers raise :class:`Terminated` in the main
thread, so it unwinds like Ctrl-C (``with`` blocks end their runs, exit hooks
flush). Code that moves buffered points out of their queues runs
:func:`shielded`: a signal arriving there is held and raised when the block
ends, so no point is ever in flight in a local variable when the process
unwinds.

Example:
    >>> with shielded():
    ...     pass  # a signal arriving here would be raised on leaving the block
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Terminated(BaseException):
    """Raised in the main thread when SIGTERM or SIGHUP arrives, to unwind it like Ctrl-C.

    ``with mloop.start_run()`` blocks end their runs KILLED on the way out, and
    the process then ends as the signal's default action would.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(f"terminated by signal {signum}")
        self.signum = signum


_depth = 0  # shielded blocks the main thread is in
_held: list[int] = []


@contextmanager
def shielded() -> Iterator[None]:
    """Hold :class:`Terminated` back until the block ends (main thread only; nestable)."""
    global _depth
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _held:
            raise Terminated(_held.pop())


def raise_terminated(signum: int, frame: FrameType | None) -> None:
    """The signal handler: raise :class:`Terminated`, or hold it inside :func:`shielded`."""
    if _depth:
        _held.append(signum)
        return
    raise Terminated(signum)
