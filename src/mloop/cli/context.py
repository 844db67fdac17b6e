"""The client a command talks to, built from global options and settings."""

from __future__ import annotations

import typer

from mloop.tracking.client import Client


def client_from(ctx: typer.Context) -> Client:
    """A tracking client for the ``--tracking-uri`` / ``--artifacts-uri`` given to ``mloop``."""
    options = ctx.find_root().obj or {}
    return Client(
        tracking_uri=options.get("tracking_uri"), artifacts_uri=options.get("artifacts_uri")
    )
