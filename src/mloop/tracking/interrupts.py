"""SIGTERM as an exception, held back while buffered data is being moved or written.

mloop's SIGTERM and SIGHUP handlers raise :class:`Terminated` in the main
thread, so it unwinds like Ctrl-C (``with`` blocks end their runs, exit hooks
flush). Only the first such signal is raised: later ones arrive while the
process is already writing its last data, and are only recorded
(:func:`received`), so they cannot break off those writes.

Code that moves buffered points out of their queues runs :func:`shielded`:
a terminating signal or a Ctrl-C (SIGINT, when its handler is Python's
default) arriving there is held and raised when the block ends, so no point
is ever in flight in a local variable when the process unwinds. A second
Ctrl-C inside the block is raised at once: the way out of a store that does
not answer (the writer keeps the batch for the next flush).

Example:
    >>> with shielded():
    ...     pass  # a signal arriving here would be raised on leaving the block
"""

from __future__ import annotations

import signal
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
_held: list[int] = []  # signals that arrived inside them, raised on leaving
_received: list[int] = []  # every terminating signal this process received, in order


def received() -> list[int]:
    """The terminating signals received so far (only the first was raised)."""
    return list(_received)


@contextmanager
def shielded() -> Iterator[None]:
    """Hold :class:`Terminated` and Ctrl-C back until the block ends (main thread; nestable)."""
    global _depth
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _depth += 1  # first, and undone first: nothing can leave it raised
    holds_sigint = False
    try:
        if _depth == 1 and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            holds_sigint = True
            signal.signal(signal.SIGINT, _hold_sigint)  # a Ctrl-C pending now is held too
        yield
    finally:
        _depth -= 1
        if holds_sigint:  # a Ctrl-C before this line is held, and raised just below
            signal.signal(signal.SIGINT, signal.default_int_handler)
        if _depth == 0 and _held:
            signum = _held[0]
            _held.clear()
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            raise Terminated(signum)


def _hold_sigint(signum: int, frame: FrameType | None) -> None:
    if signal.SIGINT in _held:  # the second Ctrl-C: the user insists
        _held.remove(signal.SIGINT)
        raise KeyboardInterrupt
    _held.append(signum)


def raise_terminated(signum: int, frame: FrameType | None) -> None:
    """The signal handler: raise :class:`Terminated` once, or hold it inside :func:`shielded`."""
    _received.append(signum)
    if len(_received) > 1:
        return  # already ending: a second signal must not break off the last writes
    if _depth:
        _held.append(signum)
        return
    raise Terminated(signum)
