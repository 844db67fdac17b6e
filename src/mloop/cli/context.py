"""The stores a command talks to, from the global options and settings.

Commands open only stores that exist (the ``mloop`` callback enters
:func:`~mloop.store.engine.existing_stores_only` for the whole invocation), so
looking into a folder without a store never creates one; the few commands
that may start a new store say so with :func:`creates_store`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import typer

from mloop.store.mode import store_creation

if TYPE_CHECKING:
    from mloop.tracking.client import Client


def client_from(ctx: typer.Context) -> Client:
    """A tracking client for the ``--tracking-uri`` / ``--artifacts-uri`` given to ``mloop``."""
    # Here, not at the top: the tracking client loads fsspec, which `--help` need not.
    from mloop.tracking.client import Client

    options = ctx.find_root().obj or {}
    return Client(
        tracking_uri=options.get("tracking_uri"), artifacts_uri=options.get("artifacts_uri")
    )


def use_store(ctx: typer.Context) -> None:
    """Point the domain APIs (data, models) at the stores named by the global options."""
    from mloop.tracking import fluent  # heavy: see client_from

    options = ctx.find_root().obj or {}
    if options.get("artifacts_uri"):
        os.environ["MLOOP_ARTIFACTS_URI"] = options["artifacts_uri"]
    if options.get("tracking_uri"):
        fluent.set_tracking_uri(options["tracking_uri"])


P = ParamSpec("P")
R = TypeVar("R")


def creates_store(func: Callable[P, R]) -> Callable[P, R]:
    """Let a command create the store it names when none exists yet (``data add``, ...)."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with store_creation(True):
            return func(*args, **kwargs)

    return wrapper
