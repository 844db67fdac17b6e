"""Monitors: a deployment's traffic or a dataset checked against a reference, on a schedule.

:func:`create_monitor` checks everything before it stores a monitor: the
target and the reference exist, the schedule and window read, each check's
options, each alert rule's text and the metrics it reads, each notifier's
spec (secrets as ``${NAME}``). :func:`run_monitor` checks one window: it
reads the rows, runs the checks, evaluates the rules, tells the notifiers
what fired or resolved, stores a report and plans the next run.

Example:
    >>> import tempfile, pandas as pd
    >>> from mloop import data
    >>> folder = tempfile.mkdtemp()
    >>> pd.DataFrame({"age": [30, 40, 50] * 10}).to_csv(f"{folder}/t.csv", index=False)
    >>> _ = data.add(folder, "people")
    >>> monitor = create_monitor("people-drift", "dataset:people", "people@1", schedule="1h",
    ...                          rules=["drift_share > 0.3"])
    >>> report = run_monitor("people-drift")
    >>> report.status  # nothing added in the last hour's window but the reference itself
    'ok'
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from mloop import models
from mloop.automation import monitor_alerts, policies, policy_runs
from mloop.automation.check_runs import CheckInputs, run_checks
from mloop.automation.estimation import make_estimator
from mloop.automation.monitor_alerts import FAILED_RULE
from mloop.automation.monitor_checks import known_metric, metric_help, parse_checks, split_metric
from mloop.automation.traffic import Target, Window, parse_target, read_window
from mloop.context.context import Context
from mloop.data import api as data
from mloop.data.expectations import ExpectationSuite
from mloop.entities import Monitor, MonitorReport
from mloop.errors import Conflict, InvalidInput, MloopError
from mloop.masking import mask_text
from mloop.models.api import read_manifest_of
from mloop.models.backend import backend
from mloop.monitoring.alerts import Alert
from mloop.monitoring.json_values import jsonable
from mloop.monitoring.notifiers import check_notifier_spec
from mloop.monitoring.quality_baseline import QualityBaseline
from mloop.monitoring.reference_profiles import reference_profile
from mloop.monitoring.rules import AlertRule
from mloop.monitoring.schedule import Schedule, parse_interval, parse_schedule
from mloop.serving import deployments
from mloop.tracking import fluent

log = logging.getLogger(__name__)

DEFAULT_CHECKS: tuple[Mapping[str, Any], ...] = ({"kind": "drift"}, {"kind": "quality"})
"""The checks of a monitor created without any: drift and data quality."""


def _context(context: Context | None) -> Context:
    return context if context is not None else fluent.current_client().context


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _moment(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, UTC)


def create_monitor(
    name: str,
    target: str,
    reference: str,
    *,
    schedule: str = "1h",
    window: str | None = None,
    checks: Sequence[Mapping[str, Any]] | None = None,
    rules: Sequence[str] = (),
    notifiers: Sequence[Mapping[str, Any]] = (),
    context: Context | None = None,
) -> Monitor:
    """Check and store a monitor; it first runs as soon as an agent (or ``run_monitor``) looks.

    Args:
        name: the monitor's name.
        target: ``deployment:NAME`` or ``dataset:NAME``.
        reference: the dataset version the rows are compared with (``credit@train``).
        schedule: how often it runs: an interval (``15m``, ``1h``) or a cron expression.
        window: how much data each run reads (an interval); the schedule's
            interval by default, or one day for a cron schedule.
        checks: the checks (:mod:`mloop.automation.monitor_checks`); drift
            and data quality by default.
        rules: alert rules (``drift_share > 0.3``, ``accuracy < 0.85 for 2 windows``).
        notifiers: notifier specs (``{"kind": "webhook", "url": "${HOOK_URL}"}``).
        context: the stores to use (default: the process's).

    Raises:
        InvalidInput: anything that does not check, before anything is stored.
        NotFound: the target deployment or the reference dataset version.
        AlreadyExists: a monitor of that name.
    """
    ctx = _context(context)
    parsed_target = parse_target(target)
    plan = parse_schedule(schedule)
    next_run(schedule, datetime.now(UTC))  # a cron expression that never fires is refused
    span = _window(window, plan)
    found = parse_checks(list(checks) if checks is not None else [dict(c) for c in DEFAULT_CHECKS])
    if parsed_target.kind == "deployment":
        deployments.get_deployment(parsed_target.name, context=ctx)
    else:
        data.versions(parsed_target.name, context=ctx)  # NotFound for an unknown dataset
        if any(check["kind"] in ("performance", "estimated_performance") for check in found):
            raise InvalidInput("performance checks need a deployment's traffic (deployment:NAME)")
    parsed_rules = [_rule(text) for text in _texts(rules)]
    _unique_names(parsed_rules)
    for spec in notifiers:
        check_notifier_spec(spec)
    if "@" not in reference:
        raise InvalidInput(
            f"name a version of {reference!r} to compare with: {reference}@train (a tag, "
            f"followed when it moves) or {reference}@3; a bare name would follow every new version"
        )
    profile = reference_profile(reference, context=ctx)  # NotFound for an unknown version
    columns = list(profile.columns)
    found = [_with_columns(check, columns, parsed_target, ctx) for check in found]
    found = [_with_sources(check, ctx) for check in found]
    for rule in parsed_rules:
        for metric in rule.metrics():
            _check_metric(rule, metric, found, columns)
    state = _fresh_state(reference, found, ctx)
    monitor = Monitor(
        name,
        str(parsed_target),
        reference,
        schedule,
        span,
        checks=found,
        rules=[str(rule) for rule in parsed_rules],
        notifiers=[dict(spec) for spec in notifiers],
        state=state,
    )
    return ctx.stores.monitors.create_monitor(monitor)


def _unique_names(rules: Sequence[AlertRule]) -> None:
    seen: dict[str, str] = {}
    for rule in rules:
        if rule.name in seen:
            raise InvalidInput(
                f"rules {seen[rule.name]!r} and {rule.text!r} are the same rule "
                f"({rule.name}); give it once"
            )
        seen[rule.name] = rule.text


def _with_columns(
    check: dict[str, Any], columns: list[Any], target: Target, ctx: Context
) -> dict[str, Any]:
    """A drift check with the columns it compares fixed now, so every window compares the same."""
    if check["kind"] != "drift":
        return check
    given = check.get("columns")
    if given is not None:
        unknown = [name for name in given if name not in columns]
        if unknown:
            raise InvalidInput(
                f"check 'drift' compares {unknown}, which the reference does not have; "
                f"it has {', '.join(str(c) for c in columns)}"
            )
        return check
    chosen = [str(c) for c in columns]
    if target.kind == "deployment":  # the columns the served model reads, not its label
        inputs = _model_inputs(target.name, ctx)
        if inputs:
            chosen = [name for name in chosen if name in inputs]
    if not chosen:
        raise InvalidInput(
            "the reference has none of the columns the served model reads: name them "
            '(--check \'{"kind": "drift", "columns": [...]}\')'
        )
    return {**check, "columns": chosen}


def _with_sources(check: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """A check with its expectation suite read now, and its labels dataset found."""
    suite = check.get("suite")
    if isinstance(suite, str):
        check = {**check, "suite": ExpectationSuite.from_yaml(suite).to_dict()}
    elif suite is not None:
        check = {**check, "suite": ExpectationSuite.from_dict(suite).to_dict()}
    if "labels" in check:
        labels = check["labels"]
        if "@" not in labels:
            raise InvalidInput(
                f"labels must name a dataset version ({labels}@latest), got {labels!r}"
            )
        data.get(labels, context=ctx)  # NotFound for an unknown one
    return check


def _model_inputs(deployment: str, ctx: Context) -> set[str]:
    primary = deployments.get_deployment(deployment, context=ctx).primary
    version = models.get_version(primary, context=ctx)
    signature = read_manifest_of(backend(ctx), version).signature
    if signature is None or not isinstance(signature.inputs, tuple):
        return set()  # no signature, or tensors: the reference's columns are compared
    return {column.name for column in signature.inputs}


def _check_metric(
    rule: AlertRule, metric: str, checks: Sequence[Mapping[str, Any]], columns: list[Any]
) -> None:
    if known_metric(metric, checks, columns):
        return
    _, column = split_metric(metric)
    if column is not None and column not in {str(c) for c in columns}:
        raise InvalidInput(
            f"rule {rule.text!r} reads {metric!r}, and the reference has no column "
            f"{column!r}; it has {', '.join(str(c) for c in columns)}"
        )
    raise InvalidInput(
        f"rule {rule.text!r} reads {metric!r}, which no check of this monitor gives; "
        f"the checks give {metric_help(checks)}"
    )


def _texts(rules: Sequence[str]) -> list[str]:
    if isinstance(rules, str):
        raise InvalidInput(f"rules must be a list of rule texts, got the text {rules!r}")
    return list(rules)


def _rule(text: str) -> AlertRule:
    return AlertRule.parse(text)


def _window(window: str | None, plan: Schedule) -> str:
    if window is None:
        if plan.interval is None:
            return "1d"
        return plan.text.strip()
    parse_interval(window, "window")
    return window


def _fresh_state(
    reference: str, checks: Sequence[Mapping[str, Any]], ctx: Context
) -> dict[str, Any]:
    dataset = data.get(reference, context=ctx)
    state: dict[str, Any] = {"reference_digest": dataset.digest}
    if any(check["kind"] == "quality" for check in checks):
        state["quality_baseline"] = QualityBaseline.from_frame(dataset.to_pandas()).to_dict()
    return state


def get_monitor(name: str, *, context: Context | None = None) -> Monitor:
    """The monitor ``name``."""
    return _context(context).stores.monitors.get_monitor(name)


def list_monitors(*, context: Context | None = None) -> list[Monitor]:
    """Every monitor of the project, by name."""
    return _context(context).stores.monitors.list_monitors()


def pause_monitor(name: str, paused: bool = True, *, context: Context | None = None) -> Monitor:
    """Stop (or, with ``paused=False``, restart) a monitor's scheduled runs."""
    store = _context(context).stores.monitors
    return store.update_monitor(dataclasses.replace(store.get_monitor(name), paused=paused))


def delete_monitor(name: str, *, context: Context | None = None) -> None:
    """Remove a monitor and its reports."""
    _context(context).stores.monitors.delete_monitor(name)


def list_reports(
    name: str, *, limit: int = 20, context: Context | None = None
) -> list[MonitorReport]:
    """A monitor's reports, newest first."""
    return _context(context).stores.monitors.list_reports(name, limit=limit)


def get_report(report_id: str, *, context: Context | None = None) -> MonitorReport:
    """The report with this id."""
    return _context(context).stores.monitors.get_report(report_id)


def next_run(schedule: str, after: datetime) -> datetime:
    """When a monitor on ``schedule`` runs next after ``after``.

    Example:
        >>> next_run("15m", datetime(2026, 12, 6, 10, 0, tzinfo=UTC)).isoformat()
        '2026-12-06T10:15:00+00:00'
        >>> next_run("0 3 * * *", datetime(2026, 12, 6, 10, 0, tzinfo=UTC)).isoformat()
        '2026-12-07T03:00:00+00:00'
    """
    plan = parse_schedule(schedule)
    if plan.interval is not None:
        return after + plan.interval
    from croniter import CroniterBadDateError, croniter

    try:
        found: datetime = croniter(plan.cron, after.astimezone(UTC)).get_next(datetime)
    except CroniterBadDateError:
        raise InvalidInput(f"schedule {schedule!r} never fires (no such date)") from None
    return found.astimezone(UTC)


RUN_LEASE_MILLIS = 300_000
"""How long a run holds its monitor's lease unless the caller holds it already."""

MAX_CATCH_UP = 10
"""After a pause, a window reaches back to the last run, but at most this many windows."""


def run_monitor(
    name: str,
    *,
    now: datetime | None = None,
    holder: str | None = None,
    context: Context | None = None,
) -> MonitorReport:
    """Check one window (since the last run, up to ``now``) and keep the report.

    The window is the monitor's window up to ``now``, reaching back to the
    last run when that was longer ago (an agent late or stopped for a while:
    nothing between two runs goes unchecked), but never more than
    :data:`MAX_CATCH_UP` windows. The run holds the monitor's lease
    (``monitor:NAME``): one run of a monitor at a time, whoever starts it; an
    agent passes its ``holder`` name, which holds the lease already.

    A failure of the checks (the log unreadable, a column gone, an error in
    the model) is a report of status ``failed`` with the error, and fires
    the ``monitor_failed`` alert; the run is planned again as usual, and the
    other alerts stay as they were (:mod:`mloop.automation.monitor_alerts`).
    An alert that fires starts the policies its monitor triggers.

    Raises:
        NotFound: no such monitor.
        Conflict: another process is running the monitor.
    """
    ctx = _context(context)
    job, leases = f"monitor:{name}", ctx.stores.leases
    mine = holder or f"run:{uuid.uuid4().hex}"
    if not leases.acquire(job, mine, RUN_LEASE_MILLIS):
        raise Conflict(f"monitor {name} is being run by {leases.holder(job)}; try again later")
    try:
        return _run(ctx.stores.monitors.get_monitor(name), now, job, mine, ctx)
    finally:
        if holder is None:
            leases.release(job, mine)


def _run(
    monitor: Monitor, now: datetime | None, job: str, holder: str, ctx: Context
) -> MonitorReport:
    end = (now or datetime.now(UTC)).astimezone(UTC)
    span = parse_interval(monitor.window, "window")
    start = end - span
    if monitor.last_run_time is not None:
        start = max(min(start, _moment(monitor.last_run_time)), end - span * MAX_CATCH_UP)
    state = dict(monitor.state)
    target = parse_target(monitor.target)
    reference = monitor.reference
    try:
        reference, window, results, metrics = _checked_window(
            monitor, target, start, end, state, ctx
        )
    except Exception as err:  # a run that cannot check its window says so and goes on
        if not isinstance(err, MloopError):
            log.exception("monitor %s: the window could not be checked", monitor.name)
        error = mask_text(str(err) or type(err).__name__)
        to_send, _ = monitor_alerts.settle(monitor, state, {}, {}, end, failure=error)
        notes = monitor_alerts.deliver(monitor, state, to_send)
        report = MonitorReport(
            monitor.name, _millis(start), _millis(end), "failed", reference,
            results=jsonable({"notifications": notes}),
            alerts=[alert.to_dict() for alert in to_send], error=error,
        )  # fmt: skip
        return _kept(monitor, report, state, end, job, holder, ctx)
    champion = champion_metrics(target, ctx)
    to_send, holding = monitor_alerts.settle(monitor, state, metrics, champion, end)
    results["notifications"] = monitor_alerts.deliver(monitor, state, to_send)
    results["policy_runs"] = _start_policies(monitor, to_send, end, ctx)
    status = "alerting" if holding else "no-data" if window.rows == 0 else "ok"
    report = MonitorReport(
        monitor.name,
        _millis(start),
        _millis(end),
        status,
        reference,
        model_versions=window.model_versions,
        results=jsonable({"source": window.source, "metrics": metrics, **results}),
        alerts=[alert.to_dict() for alert in to_send],
    )
    return _kept(monitor, report, state, end, job, holder, ctx)


def _start_policies(
    monitor: Monitor, alerts: Sequence[Alert], end: datetime, ctx: Context
) -> list[dict[str, Any]]:
    """Start the policies each newly fired alert triggers (not reminders, not monitor_failed)."""
    started = []
    for alert in alerts:
        if not alert.firing or alert.started_at != end or alert.name == FAILED_RULE:
            continue
        event = {
            "monitor": monitor.name,
            "rule": alert.name,
            "fingerprint": alert.fingerprint,
            "values": dict(alert.values),
        }
        for policy in policies.policies_for_alert(monitor.name, alert.name, context=ctx):
            try:
                run = policy_runs.start_run(policy.name, event, context=ctx)
            except MloopError as err:  # paused meanwhile, or a run of it still open
                started.append({"policy": policy.name, "error": mask_text(str(err))})
                continue
            started.append({"policy": policy.name, "run_id": run.run_id})
    return started


def _kept(
    monitor: Monitor,
    report: MonitorReport,
    state: dict[str, Any],
    end: datetime,
    job: str,
    holder: str,
    ctx: Context,
) -> MonitorReport:
    if ctx.stores.leases.holder(job) != holder:  # it expired and another run took over
        raise Conflict(
            f"monitor {monitor.name}: the run outlived its lease and another took it over; "
            "this run's report is not kept"
        )
    store = ctx.stores.monitors
    stored = store.add_report(report)
    store.record_run(
        monitor.name,
        state=jsonable(state),
        last_run_time=_millis(end),
        next_run_time=_millis(next_run(monitor.schedule, end)),
    )
    return stored


def _checked_window(
    monitor: Monitor,
    target: Target,
    start: datetime,
    end: datetime,
    state: dict[str, Any],
    ctx: Context,
) -> tuple[str, Window, dict[str, Any], dict[str, float]]:
    """The reference version read (``credit@3``), the window, the checks' results and metrics."""
    reference = data.get(monitor.reference, context=ctx)
    pinned = f"{reference.name}@{reference.version}"
    if state.get("reference_digest") != reference.digest:  # the reference's tag moved
        fresh = _fresh_state(monitor.reference, monitor.checks, ctx)  # before anything is lost
        kept: dict[str, Any] = {k: state[k] for k in ("rules", "alerts", "pending") if k in state}
        state.clear()
        state.update(fresh)
        state.update(kept)
    window = read_window(target, start, end, ctx)
    if window.rows == 0:
        return pinned, window, {}, {"rows": 0.0}
    baseline = state.get("quality_baseline")
    inputs = CheckInputs(
        reference_profile(pinned, context=ctx),
        None if baseline is None else QualityBaseline.from_dict(baseline),
        [metric for text in monitor.rules for metric in AlertRule.parse(text).metrics()],
        make_estimator(pinned, state, ctx) if target.kind == "deployment" else None,
        lambda ref: data.get(ref, context=ctx).to_pandas(),
    )
    results, metrics = run_checks(monitor.checks, window, inputs)
    return pinned, window, results, metrics


def champion_metrics(target: Target, ctx: Context) -> dict[str, float]:
    """The metrics recorded on the model version a deployment's primary names ({} otherwise)."""
    if target.kind != "deployment":
        return {}
    try:
        primary = deployments.get_deployment(target.name, context=ctx).primary
        version = models.get_version(primary, context=ctx)
    except MloopError:
        return {}
    return {str(key): float(value) for key, value in version.metrics.items()}


def due(monitor: Monitor, now: datetime) -> bool:
    """Whether ``monitor`` should run at ``now``."""
    return not monitor.paused and (
        monitor.next_run_time is None or monitor.next_run_time <= _millis(now)
    )
