"""One autologged call: the run it logs to, and the rule that logging never breaks training.

:func:`call` runs the user's ``fit`` (or ``train``) between a ``before`` and an
``after`` step that log. With no active run in the calling thread it starts
one and ends it when the call returns: FINISHED, or FAILED (KILLED on Ctrl-C)
when the user's code raises, whose exception then propagates unchanged. An
exception inside ``before`` or ``after`` becomes a
:class:`~mloop.errors.MloopWarning` and the call returns normally.

Only the outermost call logs: a ``fit`` made inside an autologged ``fit`` (a
pipeline's steps, a search's candidates and refit) runs as it would without
autologging, unless the outer call asked for it (:attr:`Session.inner`).

Example:
    >>> import mloop, tempfile
    >>> from mloop.autologging.options import Options
    >>> home = tempfile.mkdtemp()
    >>> mloop.set_tracking_uri(f"sqlite:///{home}/m.db", artifacts_uri=f"{home}/a")
    >>> def before(session):
    ...     session.client.log_params(session.run_id, {"alpha": 0.5})
    >>> def after(session, state, result):
    ...     session.client.log_metrics(session.run_id, {"training_score": result})
    >>> call(Options.build("demo"), lambda: 0.75, before, after)
    0.75
    >>> run = mloop.last_active_run()
    >>> run.data.params, run.data.metrics, run.data.tags["mloop.autologging"]
    ({'alpha': '0.5'}, {'training_score': 0.75}, 'demo')
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import warnings
from collections.abc import Callable
from typing import TypeVar

from mloop.autologging.options import Options
from mloop.errors import MloopWarning
from mloop.tracking import fluent
from mloop.tracking.client import Client

log = logging.getLogger(__name__)
T = TypeVar("T")
S = TypeVar("S")
AUTOLOGGING_TAG = "mloop.autologging"


@dataclasses.dataclass
class Session:
    """The run an autologged call logs to, and what it may still log.

    ``inner`` names a function the outer call lets log once more inside it
    (XGBoost's and LightGBM's ``fit`` let their inner ``train`` log metrics);
    ``logged_params`` the params already logged, which an inner call leaves be.
    """

    options: Options
    run_id: str
    client: Client
    experiment_id: str
    inner: str | None = None
    logged_params: set[str] = dataclasses.field(default_factory=set)

    def guard(self, what: str, action: Callable[[], T]) -> T | None:
        """Run ``action``; a failure becomes a warning (unless silent) and None."""
        try:
            return action()
        except Exception as err:  # logging must never break the user's training
            self.warn(f"mloop autologging could not {what} ({self.options.flavor}): {err}")
            return None

    def warn(self, message: str) -> None:
        """Warn as MloopWarning unless the integration was asked to be silent."""
        if self.options.silent:
            log.debug(message)
        else:
            warnings.warn(message, MloopWarning, stacklevel=4)


class _Local(threading.local):
    def __init__(self) -> None:
        self.session: Session | None = None


_local = _Local()


def current() -> Session | None:
    """The autologged call in progress in this thread, if any."""
    return _local.session


def call(
    options: Options,
    run: Callable[[], T],
    before: Callable[[Session], S],
    after: Callable[[Session, S | None, T], None],
) -> T:
    """Run the user's call ``run`` with ``before`` and ``after`` logging around it."""
    if _local.session is not None:
        return run()
    active = fluent.active_run()
    if options.exclusive and active is not None:
        return run()  # the run is the user's: exclusive autologging keeps out of it
    started, session = _open(options, active)
    if session is None:
        return run()
    _local.session = session
    try:
        state = session.guard("log before training", lambda: before(session))
        result = run()
        session.guard("log after training", lambda: after(session, state, result))
    except BaseException as exc:  # the user's error, or Ctrl-C while logging: the run ends
        if started is not None:
            started.__exit__(type(exc), exc, exc.__traceback__)
        raise
    finally:
        _local.session = None
    if started is not None:
        session.guard("end its run", fluent.end_run)
    return result


def _open(
    options: Options, active: fluent.ActiveRun | None
) -> tuple[fluent.ActiveRun | None, Session | None]:
    try:
        started = None
        if active is None:
            tags = {**options.extra_tags, AUTOLOGGING_TAG: options.flavor}
            started = active = fluent.start_run(tags=tags)
        client = fluent.current_client()
        info = active.info
        return started, Session(options, info.run_id, client, info.experiment_id)
    except Exception as err:
        message = f"mloop autologging could not start a run ({options.flavor}): {err}"
        if not options.silent:
            warnings.warn(message, MloopWarning, stacklevel=4)
        return None, None
