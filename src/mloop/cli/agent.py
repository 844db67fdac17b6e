"""``mloop agent``: run due monitors and policies on their schedules, until Ctrl-C or SIGTERM.

Example:
    $ mloop agent                 # every 10 s, run the monitors that are due
    $ mloop agent --once          # one pass, then exit (cron, CI)
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import typer

from mloop.cli.context import use_store
from mloop.cli.output import handle_errors, millis_text, say
from mloop.errors import InvalidInput

_STOPS = (signal.SIGINT, signal.SIGTERM)


def _said(report: Any) -> None:
    metrics = report.results.get("metrics") or {}
    alerts = ", ".join(f"{a.get('name')} {a.get('state')}" for a in report.alerts)
    say(
        f"monitor {report.monitor}: {report.status} ({metrics.get('rows', 0):.0f} rows to "
        f"{millis_text(report.window_end)})"
        + (f"; sent {alerts}" if alerts else "")
        + (f"; error: {report.error}" if report.error else "")
    )


class _RunLines:
    """Prints each step of a policy run once, as the agent starts and moves runs on."""

    def __init__(self) -> None:
        self.shown: dict[str, int] = {}

    def __call__(self, run: Any) -> None:
        from mloop.automation.policy_chain import describe_step

        start = self.shown.get(run.run_id, 0)
        for record in run.chain[start:]:
            say(f"policy {run.policy} run {run.run_id[:8]}: {describe_step(record)}")
        self.shown[run.run_id] = len(run.chain)
        if run.finished:
            say(f"policy {run.policy} run {run.run_id[:8]}: {run.status}")


@handle_errors
def agent_command(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="Run what is due once, then exit."),
    tick: float = typer.Option(10.0, "--tick", help="Seconds between looks at what is due."),
    lease: float = typer.Option(
        300.0,
        "--lease",
        help="Seconds a job's lease lasts unless renewed (another agent "
        "takes over a job whose agent died after this long).",
    ),
) -> None:
    """Run due monitors and policies on their schedules until Ctrl-C (or SIGTERM).

    Each pass runs the monitors that are due, starts the policy runs their
    alerts (or a schedule, or a new dataset version) trigger, and moves every
    open policy run on. Any number of agents can run against one store: each
    job is taken by one of them (a lease in the store). A job in progress
    finishes before the agent stops.
    """
    from mloop.automation.agent import Agent

    if not tick > 0:
        raise InvalidInput(f"--tick must be positive, got {tick}")
    use_store(ctx)
    agent = Agent(lease_seconds=lease, on_report=_said, on_run=_RunLines())
    if once:
        agent.run_once()
        return
    stop, stopped_by = threading.Event(), []

    def stopping(number: int, _: Any) -> None:
        stopped_by.append(number)
        stop.set()

    kept = {sig: signal.signal(sig, stopping) for sig in _STOPS}
    say(f"agent {agent.holder}: running due monitors and policies every {tick:g} s (Ctrl-C stops)")
    try:
        agent.serve(stop, tick)
    finally:
        for sig, handler in kept.items():
            signal.signal(sig, handler)
    say(f"agent {agent.holder}: stopped")
    raise typer.Exit(128 + stopped_by[0])
