"""The agent: runs due monitors and carries the continuous-training loop on, one agent per job.

Each pass (:meth:`Agent.run_once`) runs the monitors that are due; starts
the runs of the policies their alerts trigger, and of the policies whose
schedule or dataset fires; then advances every open policy run as far as it
can go (a pipeline run, a gate, waiting for approvals, a canary watched
until it is promoted or rolled back).

Any number of agents may run against one store (on one machine or many):
before it runs a monitor, an agent takes the monitor's lease
(``monitor:NAME``, a row in the store with an expiry) and reads the monitor
again; an agent that does not get the lease, or finds the run already done
by another, skips it. While a run lasts, the lease is renewed; a lease left
by an agent that was killed expires, and another agent takes the job over.
Everything an agent knows is in the store, so it survives restarts.

Example:
    >>> agent = Agent(holder="doc-agent")
    >>> agent.run_once()  # no monitors yet
    []
    >>> agent.last_runs  # nor policies
    []
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from mloop.automation import policies, policy_runs
from mloop.automation.monitors import due, run_monitor
from mloop.context.context import Context
from mloop.entities import MonitorReport, PolicyRun
from mloop.errors import Conflict, InvalidInput, MloopError
from mloop.tracking import fluent

log = logging.getLogger(__name__)

LEASE_SECONDS = 300.0
"""How long a lease lasts unless renewed; a run renews it every third of that."""


def default_holder() -> str:
    """A name for this agent that no other process shares: host, process id, a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Agent:
    """Runs due monitors, each under its lease.

    Args:
        context: the stores (default: the process's).
        holder: this agent's name in the leases (default: host, pid, random).
        lease_seconds: how long a lease lasts unless renewed.
        on_report: called with each report a run stores (for printing).
        on_run: called with each policy run the agent starts or moves on.
    """

    def __init__(
        self,
        *,
        context: Context | None = None,
        holder: str | None = None,
        lease_seconds: float = LEASE_SECONDS,
        on_report: Callable[[MonitorReport], None] | None = None,
        on_run: Callable[[PolicyRun], None] | None = None,
    ) -> None:
        if not lease_seconds > 0:
            raise InvalidInput(f"lease_seconds must be positive, got {lease_seconds!r}")
        self.context = context if context is not None else fluent.current_client().context
        self.holder = holder or default_holder()
        self.lease_ms = int(lease_seconds * 1000)
        self.on_report = on_report
        self.on_run = on_run
        self.last_runs: list[PolicyRun] = []

    def run_once(self, now: datetime | None = None) -> list[MonitorReport]:
        """One pass: due monitors (and the policy runs their alerts start), due policies, open runs.

        ``now`` is the time every job of the pass is judged at (default: the
        clock, read again for each job). Returns the monitors' reports; the
        policy runs started or moved on are in :attr:`last_runs`.
        """
        first = (now or datetime.now(UTC)).astimezone(UTC)
        monitors = self.context.stores.monitors
        reports = []
        self.last_runs = []
        for monitor in monitors.due_monitors(int(first.timestamp() * 1000)):
            moment = first if now is not None else datetime.now(UTC)
            report = self._run(monitor.name, moment)
            if report is None:
                continue
            reports.append(report)
            if self.on_report is not None:
                self.on_report(report)
            for started in report.results.get("policy_runs", []):
                if "run_id" in started:
                    self._tell(policy_runs.get_run(started["run_id"], context=self.context))
        self._start_due(first if now is not None else datetime.now(UTC))
        self._advance_open()
        return reports

    def _started(self, name: str, event: dict[str, object]) -> None:
        try:
            run = policy_runs.start_run(name, event, context=self.context)
        except MloopError as err:  # paused meanwhile, a run still open
            log.info("policy %s: not started: %s", name, err)
            return
        self._tell(run)

    def _tell(self, run: PolicyRun) -> None:
        self.last_runs.append(run)
        if self.on_run is not None:
            self.on_run(run)

    def _start_due(self, moment: datetime) -> None:
        # One agent at a time looks at what fires: looking moves each policy's state on.
        job, leases = "policies:due", self.context.stores.leases
        if not leases.acquire(job, self.holder, self.lease_ms):
            return
        try:
            for firing in policies.due_policies(
                int(moment.timestamp() * 1000), context=self.context
            ):
                self._started(firing.policy.name, firing.event)
        finally:
            leases.release(job, self.holder)

    def _advance_open(self) -> None:
        for run in policy_runs.open_runs(context=self.context):
            before = (run.status, len(run.chain))
            try:
                moved = policy_runs.advance(run.run_id, context=self.context)
            except Conflict:
                continue  # another agent is advancing it
            except MloopError as err:
                log.warning("policy run %s: %s", run.run_id, err)
                continue
            except Exception:  # one run's fault must not stop the others
                log.exception("policy run %s: could not be moved on", run.run_id)
                continue
            if (moved.status, len(moved.chain)) != before:
                self._tell(moved)

    def _run(self, name: str, moment: datetime) -> MonitorReport | None:
        job, leases = f"monitor:{name}", self.context.stores.leases
        if not leases.acquire(job, self.holder, self.lease_ms):
            return None
        renewing = _Renewal(lambda: leases.renew(job, self.holder, self.lease_ms), self.lease_ms)
        try:
            # Another agent may have run it between our listing and our lease.
            if not due(self.context.stores.monitors.get_monitor(name), moment):
                return None
            renewing.start()
            return run_monitor(name, now=moment, holder=self.holder, context=self.context)
        except MloopError as err:  # deleted meanwhile, the lease lost, the store away
            log.warning("monitor %s: not run: %s", name, err)
            return None
        except Exception:  # one monitor's fault must not stop the others
            log.exception("monitor %s: the run failed", name)
            return None
        finally:
            renewing.stop()
            leases.release(job, self.holder)

    def serve(self, stop: threading.Event, tick: float = 10.0) -> None:
        """Run due monitors every ``tick`` seconds until ``stop`` is set.

        A run in progress finishes before the agent stops.
        """
        if not tick > 0:
            raise InvalidInput(f"tick must be positive, got {tick!r}")
        while not stop.is_set():
            try:
                self.run_once()
            except MloopError as err:  # the store unreachable for a while: try again later
                log.error("agent %s: %s", self.holder, err)
            except Exception:  # a fault of one pass must not end the agent
                log.exception("agent %s: the pass failed; the next one goes on", self.holder)
            stop.wait(tick)


class _Renewal:
    """Renews a lease every third of its length, in a thread, while a job runs."""

    def __init__(self, renew: Callable[[], bool], lease_ms: int) -> None:
        self._renew = renew
        self._every = lease_ms / 3000
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mloop-lease", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._done.wait(self._every):
            try:
                if not self._renew():
                    log.warning("a lease was lost while its job ran")
                    return
            except MloopError as err:
                log.warning("a lease could not be renewed: %s", err)

    def stop(self) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()
