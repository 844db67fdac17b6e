"""The stores a command talks to, from the global options and settings."""

from __future__ import annotations

import os

import typer

from mloop.tracking import fluent
from mloop.tracking.client import Client


def client_from(ctx: typer.Context) -> Client:
    """A tracking client for the ``--tracking-uri`` / ``--artifacts-uri`` given to ``mloop``."""
    options = ctx.find_root().obj or {}
    return Client(
        tracking_uri=options.get("tracking_uri"), artifacts_uri=options.get("artifacts_uri")
    )


def use_store(ctx: typer.Context) -> None:
    """Point the domain APIs (data, models) at the stores named by the global options."""
    options = ctx.find_root().obj or {}
    if options.get("artifacts_uri"):
        os.environ["MLOOP_ARTIFACTS_URI"] = options["artifacts_uri"]
    if options.get("tracking_uri"):
        fluent.set_tracking_uri(options["tracking_uri"])
