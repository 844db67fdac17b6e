"""The stores a command talks to, from the global options and settings.

Commands open only stores that exist (the ``mloop`` callback enters
:func:`~mloop.store.engine.existing_stores_only` for the whole invocation), so
looking into a folder without a store never creates one; the few commands
that may start a new store say so with :func:`creates_store`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import typer

from mloop.cli.output import print_labelled
from mloop.config import DEFAULT_PROJECT
from mloop.store.mode import store_creation

if TYPE_CHECKING:
    from mloop.tracking.client import Client


def client_from(ctx: typer.Context) -> Client:
    """A tracking client for the ``--tracking-uri`` / ``--artifacts-uri`` given to ``mloop``.

    Example:
        >>> client_from(ctx).search_experiments()  # doctest: +SKIP
    """
    # Here, not at the top: the tracking client loads SQLAlchemy and fsspec, which
    # `mloop <group> --help` need not.
    from mloop.tracking.client import Client

    options = ctx.find_root().obj or {}
    client = Client(
        tracking_uri=options.get("tracking_uri"), artifacts_uri=options.get("artifacts_uri")
    )
    note_a_new_project(client)
    return client


def use_store(ctx: typer.Context) -> None:
    """Point the domain APIs (data, models, pipelines) at the stores the global options name.

    The options reach them through :func:`mloop.set_tracking_uri`, as a script
    would point them: the tracking URI and, with it, its artifact root.

    Example:
        >>> use_store(ctx)  # doctest: +SKIP
    """
    # Here, not at the top: the fluent API loads SQLAlchemy and fsspec (see client_from).
    from mloop.context import current
    from mloop.tracking import fluent

    options = ctx.find_root().obj or {}
    tracking, artifacts = options.get("tracking_uri"), options.get("artifacts_uri")
    if tracking or artifacts:
        # Only --artifacts-uri: the store stays the one chosen already (or the settings').
        fluent.set_tracking_uri(tracking or current.tracking_uri() or "", artifacts_uri=artifacts)
    if current.project() is not None:
        note_a_new_project(fluent.current_client())


def note_a_new_project(client: Client) -> None:
    """Say so on stderr when the project in use does not exist in the store (a typo?).

    Reading it finds nothing, and the first thing created in it creates it:
    either way the user hears which projects there are.
    """
    if client.project == DEFAULT_PROJECT:
        return
    names = [p.name for p in client.stores.projects.list_projects()]
    if client.project not in names:
        print_labelled(
            "note:",
            f"project {client.project!r} has nothing in this store yet (its projects: "
            f"{', '.join(names)}); the first thing created in it creates it",
            style="yellow",
            err=True,
        )


P = ParamSpec("P")
R = TypeVar("R")


def creates_store(func: Callable[P, R]) -> Callable[P, R]:
    """Let a command create the store it names when none exists yet (``data add``, ...)."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with store_creation(True):
            return func(*args, **kwargs)

    return wrapper
