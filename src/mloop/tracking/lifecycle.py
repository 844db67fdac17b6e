"""How the end of a process ends its runs: uncaught exceptions, SIGTERM and SIGHUP.

Installed lazily, when the first run starts (never at import):

- ``sys.excepthook`` (chained to the previous hook): an uncaught exception
  ends the active runs FAILED with the traceback, KeyboardInterrupt KILLED;
- SIGTERM and SIGHUP (what Docker, Kubernetes and Slurm send) raise
  :class:`~mloop.tracking.interrupts.Terminated` in the main thread, which
  unwinds it like Ctrl-C: ``with`` blocks end their runs KILLED, then the
  hook ends every other run this process owns KILLED, writes everything
  buffered, and re-raises the signal with its default action, so the exit
  status is the one the default handler gives (``-15`` for SIGTERM).
  Later signals are only recorded, so they cannot break off the last writes;
  and a watchdog started by the first one ends the process with the signal's
  default action :data:`TERMINATION_GRACE` seconds later whatever it is
  doing then (a store that does not answer), logging what was not written.
  A handler the program installed itself is kept and called after mloop
  wakes its writers; an ignored signal stays ignored.

Example:
    >>> install()  # idempotent; the fluent API and Client.create_run call it
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from types import FrameType, TracebackType

from mloop.entities import RunStatus
from mloop.tracking import connection, interrupts
from mloop.tracking.interrupts import Terminated, raise_terminated
from mloop.tracking.writer import unwritten

log = logging.getLogger(__name__)
SIGNALS = (signal.SIGTERM, signal.SIGHUP)
MAX_ERROR = 8000
TERMINATION_GRACE = 25.0
"""Seconds a process has, from SIGTERM or SIGHUP, to write what is buffered and end.

Below Kubernetes' default of 30 s, after which it sends SIGKILL.
"""

Ender = Callable[[RunStatus, str | None], None]
_enders: list[Ender] = []
_lock = threading.Lock()
_hook_installed = False
_signals_installed = False


def install(end_active: Ender | None = None) -> None:
    """Install the exception hook and, from the main thread, the signal handlers (once).

    ``end_active(status, error)`` is called first when the process dies, to
    end the runs that are active in the program's view (the fluent API's).
    """
    global _hook_installed, _signals_installed
    with _lock:
        if end_active is not None and end_active not in _enders:
            _enders.append(end_active)
        if not _hook_installed:
            previous = sys.excepthook
            sys.excepthook = lambda t, e, tb: _on_uncaught(previous, t, e, tb)
            _hook_installed = True
        if not _signals_installed and threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                _install_handler(sig)
            _signals_installed = True


def error_text(
    exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
) -> str:
    """What a run ended by an exception records: the traceback's last 8,000 characters."""
    if isinstance(exc, Terminated):
        return f"terminated by {signal.Signals(exc.signum).name}"
    return "".join(traceback.format_exception(exc_type, exc, tb))[-MAX_ERROR:]


def _install_handler(sig: signal.Signals) -> None:
    current = signal.getsignal(sig)
    # Flushing inside the handler could deadlock (the interrupted code may hold
    # the writer's lock or an open transaction): unwind the main thread instead.
    if current == signal.SIG_DFL:
        signal.signal(sig, _on_signal)
    elif callable(current) and current is not _on_signal:
        signal.signal(sig, _chained(current))
    # SIG_IGN, or a handler set outside Python: the program decided; leave it.


def _on_signal(signum: int, frame: FrameType | None) -> None:
    if not interrupts.received():
        _start_watchdog(signum)
    raise_terminated(signum, frame)


def _start_watchdog(signum: int) -> None:
    watchdog = threading.Timer(TERMINATION_GRACE, _expire, (signum,))
    watchdog.name = "mloop-termination-watchdog"
    watchdog.daemon = True
    watchdog.start()


def _expire(signum: int) -> None:
    name = signal.Signals(signum).name
    try:
        main = sys._current_frames().get(threading.main_thread().ident or 0)
        where = "".join(traceback.format_stack(main)[-6:]) if main is not None else "?\n"
        report = f"Not written: {unwritten()}. The main thread was at:\n{where}"
    except Exception as err:  # nothing may stop the ending
        report = f"what was not written is unknown ({err!r})"
    message = f"the process did not end within {TERMINATION_GRACE} s of {name}; ending it now"
    # Logged from a thread of its own, waited for a moment only: the log's lock
    # may be held by the very thread that hangs (a full stderr pipe).
    logger = threading.Thread(target=log.error, args=("mloop: %s. %s", message, report))
    logger.daemon = True
    logger.start()
    logger.join(2.0)
    _kill(signum)


def _kill(signum: int) -> None:
    # signal.signal works only in the main thread, the one that hangs: reset
    # the disposition through the C library, so the exit status is the signal's.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.signal.argtypes = [ctypes.c_int, ctypes.c_void_p]
        libc.signal.restype = ctypes.c_void_p
        libc.signal(signum, None)  # SIG_DFL
        os.kill(os.getpid(), signum)
        threading.Event().wait(5)
    finally:
        os._exit(128 + signum)  # only if the signal did not end the process


def _chained(
    user: Callable[[int, FrameType | None], object],
) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        connection.wake_writers()  # what is buffered starts being written now
        user(signum, frame)

    return handler


def _on_uncaught(
    previous: Callable[[type[BaseException], BaseException, TracebackType | None], object],
    exc_type: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
) -> None:
    # A signal's unwinding may end in another exception (the last flush failed
    # in a ``with`` block's exit): the process still ends as the signal asked.
    signals = interrupts.received()
    signum = exc.signum if isinstance(exc, Terminated) else (signals[0] if signals else None)
    killed = signum is not None or isinstance(exc, KeyboardInterrupt)
    status = RunStatus.KILLED if killed else RunStatus.FAILED
    _end_active(status, error_text(exc_type, exc, tb))
    if signum is not None:
        if not isinstance(exc, Terminated):
            log.error("mloop: ending on %s after: %s", signal.Signals(signum).name, exc)
        _die(signum)
    previous(exc_type, exc, tb)


def _end_active(status: RunStatus, error: str | None) -> None:
    for end in list(_enders):
        try:
            end(status, error)
        except BaseException as err:  # dying (a Ctrl-C too): say it, go on
            log.error("mloop could not end the active run: %r", err)


def _die(signum: int) -> None:
    for sig in SIGNALS:  # a second signal must not interrupt the last writes
        signal.signal(sig, signal.SIG_IGN)
    name = signal.Signals(signum).name
    try:
        connection.end_owned_runs(RunStatus.KILLED, f"terminated by {name}")
    except BaseException as err:  # the signal's exit must follow
        log.error("mloop could not end its runs on %s: %r", name, err)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    os._exit(128 + signum)  # only if the signal did not end the process
