r"""``mloop monitor create|ls|show|run|report|pause|resume|rm``: monitors kept in the store.

Example:
    $ mloop monitor create credit-drift --target deployment:credit-api \
        --reference credit@train --schedule 1h --rule "drift_share > 0.3" \
        --notify '{"kind": "webhook", "url": "${HOOK_URL}"}'
    $ mloop monitor run credit-drift
    $ mloop monitor report credit-drift --html drift.html
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from mloop.cli.context import use_store
from mloop.cli.html_files import html_target, write_page
from mloop.cli.output import handle_errors, millis_text, print_json, say, table
from mloop.errors import EXIT_CHECK_FAILED, InvalidInput

# mloop.automation loads pandas, scipy and the serving layer: imported in the commands.

_FIELDS = ("name", "target", "reference", "schedule", "window", "checks", "rules", "notifiers")


def _json_option(text: str, option: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidInput(f"{option} {text!r} is not JSON ({err.msg})") from None


def _check(text: str) -> dict[str, Any]:
    """``drift`` or a JSON mapping such as ``{"kind": "quality", "expected_rows": 500}``."""
    if text.lstrip().startswith("{"):
        value = _json_option(text, "--check")
        if not isinstance(value, dict):
            raise InvalidInput(f"--check {text!r} must be a kind or a JSON mapping")
        return value
    return {"kind": text.strip()}


def _from_file(path: Path) -> dict[str, Any]:
    import yaml

    if not path.is_file():
        raise InvalidInput(f"no monitor file at {str(path)!r}")
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise InvalidInput(f"{path} is not YAML: {err}") from None
    if not isinstance(spec, dict):
        raise InvalidInput(f"{path} must hold a mapping of {', '.join(_FIELDS)}")
    unknown = sorted(set(spec) - set(_FIELDS))
    if unknown:
        raise InvalidInput(f"{path}: unknown key {unknown[0]!r}; the keys are {', '.join(_FIELDS)}")
    return spec


@handle_errors
def create(
    ctx: typer.Context,
    name: str | None = typer.Argument(None, help="The monitor's name (or in --file)."),
    target: str | None = typer.Option(
        None, "--target", help="deployment:NAME (its traffic) or dataset:NAME (its new versions)."
    ),
    reference: str | None = typer.Option(
        None, "--reference", help="The dataset version to compare with (credit@train)."
    ),
    schedule: str | None = typer.Option(
        None, "--schedule", help="How often: 15m, 1h, 1d or a cron expression (default 1h)."
    ),
    window: str | None = typer.Option(
        None, "--window", help="How much data each run reads (default: the schedule's interval)."
    ),
    checks: list[str] = typer.Option(
        [], "--check", help="drift, quality, performance, or a JSON mapping with options."
    ),
    rules: list[str] = typer.Option([], "--rule", help='An alert rule: "drift_share > 0.3".'),
    notify: list[str] = typer.Option(
        [], "--notify", help='A notifier spec as JSON: {"kind": "webhook", "url": "${HOOK_URL}"}.'
    ),
    file: Path | None = typer.Option(None, "--file", help="A YAML file with all of the above."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a monitor: everything is checked before it is stored."""
    from mloop.automation.monitors import create_monitor

    spec: dict[str, Any] = _from_file(file) if file is not None else {}
    given = {
        "name": name,
        "target": target,
        "reference": reference,
        "schedule": schedule,
        "window": window,
        "checks": [_check(c) for c in checks] or None,
        "rules": rules or None,
        "notifiers": [_json_option(n, "--notify") for n in notify] or None,
    }
    spec.update({key: value for key, value in given.items() if value is not None})
    for needed in ("name", "target", "reference"):
        if not spec.get(needed):
            raise InvalidInput(f"a monitor needs a {needed} (--{needed} or in --file)")
    use_store(ctx)
    monitor = create_monitor(spec.pop("name"), spec.pop("target"), spec.pop("reference"), **spec)
    if as_json:
        print_json(monitor)
        return
    say(
        f"created monitor {monitor.name}: {monitor.target} against {monitor.reference}, "
        f"every {monitor.schedule} over {monitor.window}; "
        f"{len(monitor.checks)} check(s), {len(monitor.rules)} rule(s), "
        f"{len(monitor.notifiers)} notifier(s)"
    )


@handle_errors
def ls(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """List monitors, with when each last ran and runs next."""
    from mloop.automation.monitors import list_monitors, list_reports

    use_store(ctx)
    found = list_monitors()
    last = {m.name: next(iter(list_reports(m.name, limit=1)), None) for m in found}
    if as_json:
        print_json(
            [{**_fields(m), "last_status": getattr(last[m.name], "status", None)} for m in found]
        )
        return
    table(
        "Monitors",
        ["name", "target", "reference", "schedule", "last run", "status", "next run"],
        [
            [
                m.name,
                m.target,
                m.reference,
                m.schedule + (" (paused)" if m.paused else ""),
                millis_text(m.last_run_time),
                getattr(last[m.name], "status", "-"),
                "-" if m.paused else millis_text(m.next_run_time) if m.next_run_time else "now",
            ]
            for m in found
        ],
    )


def _fields(monitor: Any) -> dict[str, Any]:
    return {
        "name": monitor.name,
        "target": monitor.target,
        "reference": monitor.reference,
        "schedule": monitor.schedule,
        "window": monitor.window,
        "checks": monitor.checks,
        "rules": monitor.rules,
        "notifiers": monitor.notifiers,
        "paused": monitor.paused,
        "last_run_time": monitor.last_run_time,
        "next_run_time": monitor.next_run_time,
    }


@handle_errors
def show(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The monitor."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a monitor's settings and its latest reports."""
    from mloop.automation.monitors import get_monitor, list_reports

    use_store(ctx)
    monitor = get_monitor(name)
    reports = list_reports(name, limit=5)
    if as_json:
        print_json({**_fields(monitor), "reports": reports})
        return
    say(f"monitor {monitor.name}: {monitor.target} against {monitor.reference}")
    say(
        f"  every {monitor.schedule} over {monitor.window}" + (", paused" if monitor.paused else "")
    )
    for check in monitor.checks:
        say(f"  check: {json.dumps(check)}")
    for rule in monitor.rules:
        say(f"  rule: {rule}")
    for spec in monitor.notifiers:
        say(f"  notifier: {json.dumps(spec)}")
    _report_table(f"Latest reports of {name}", reports)


def _report_table(title: str, reports: list[Any]) -> None:
    table(
        title,
        ["report", "window end", "status", "rows", "drift share", "alerts"],
        [
            [
                r.report_id,
                millis_text(r.window_end),
                r.status,
                _metric(r, "rows", "{:.0f}"),
                _metric(r, "drift_share", "{:.0%}"),
                ", ".join(f"{a.get('name')} {a.get('state')}" for a in r.alerts) or "-",
            ]
            for r in reports
        ],
    )


def _metric(report: Any, name: str, form: str) -> str:
    value = (report.results.get("metrics") or {}).get(name)
    return "-" if value is None else form.format(value)


@handle_errors
def run(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The monitor."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    fail_on_alert: bool = typer.Option(
        False, "--fail-on-alert", help="Exit 1 when an alert rule holds (for CI)."
    ),
) -> None:
    """Check the monitor's latest window now, notify, and keep the report.

    Exits 1 when the window could not be checked or a notifier could not
    deliver (it gets what it missed again at the next run).
    """
    from mloop.automation.monitors import run_monitor

    use_store(ctx)
    report = run_monitor(name)
    if as_json:
        print_json(report)
    else:
        _say_report(report)
    undelivered = [n for n in report.results.get("notifications", []) if not n.get("delivered")]
    if report.status == "failed" or undelivered:
        raise typer.Exit(EXIT_CHECK_FAILED)
    if fail_on_alert and report.status == "alerting":
        raise typer.Exit(EXIT_CHECK_FAILED)


def _say_report(report: Any) -> None:
    metrics = report.results.get("metrics") or {}
    say(
        f"monitor {report.monitor}: {report.status} over {millis_text(report.window_start)} "
        f"to {millis_text(report.window_end)} ({report.results.get('source', '-')}; "
        f"{metrics.get('rows', 0):.0f} rows) -> report {report.report_id}"
    )
    if report.error:
        say(f"  error: {report.error}")
    shown = {k: v for k, v in metrics.items() if "(" not in k and k != "rows"}
    for key, value in sorted(shown.items()):
        say(f"  {key} = {value:.4g}")
    for alert in report.alerts:
        say(f"  alert {alert.get('name')} {alert.get('state')}: {alert.get('summary')}")
    for note in report.results.get("notifications", []):
        if not note.get("delivered"):
            say(f"  notifier {note.get('kind')} failed: {note.get('error')} (sent again next run)")


@handle_errors
def report(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The monitor."),
    report_id: str | None = typer.Option(
        None, "--id", help="One report, by its id or its first 6+ characters (default: the newest)."
    ),
    limit: int = typer.Option(20, "--limit", help="How many reports to list."),
    html: Path | None = typer.Option(
        None, "--html", help="Write the report as a self-contained HTML page to this file."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List a monitor's reports, or show one (as HTML with --html)."""
    from mloop.automation.monitors import get_report, list_reports

    if limit < 1:
        raise InvalidInput(f"--limit must be at least 1, got {limit}")
    target = None if html is None else html_target(str(html))
    use_store(ctx)
    reports = list_reports(name, limit=limit if report_id is None and html is None else 50)
    if report_id is None and html is None:
        if as_json:
            print_json(reports)
        else:
            _report_table(f"Reports of {name}", reports)
        return
    if report_id is None:
        chosen = next(iter(reports), None)
    elif len(report_id) == 32:
        chosen = get_report(report_id)
    else:
        chosen = _by_prefix(name, report_id)
    if chosen is None or chosen.monitor != name:
        raise InvalidInput(f"monitor {name} has no report {report_id or ''}".rstrip())
    if target is not None:
        from mloop.automation.report_pages import report_page

        earlier = [r for r in reports if r.window_end < chosen.window_end]
        write_page(target, report_page(chosen, earlier))
        say(f"wrote the HTML report to {target}")
    elif as_json:
        print_json(chosen)
    else:
        _say_report(chosen)


def _by_prefix(name: str, prefix: str) -> Any:
    """The report of monitor ``name`` whose id starts with ``prefix`` (6 characters or more)."""
    from mloop.automation.monitors import list_reports

    if len(prefix) < 6:
        raise InvalidInput(f"--id {prefix!r}: give at least 6 characters of a report's id")
    found = [r for r in list_reports(name, limit=10_000) if r.report_id.startswith(prefix)]
    if len(found) > 1:
        raise InvalidInput(f"--id {prefix!r} matches {len(found)} reports: give more of it")
    return found[0] if found else None


@handle_errors
def pause(ctx: typer.Context, name: str = typer.Argument(..., help="The monitor.")) -> None:
    """Stop a monitor's scheduled runs (mloop monitor run still runs it)."""
    from mloop.automation.monitors import pause_monitor

    use_store(ctx)
    pause_monitor(name)
    say(f"paused monitor {name}")


@handle_errors
def resume(ctx: typer.Context, name: str = typer.Argument(..., help="The monitor.")) -> None:
    """Restart a paused monitor's scheduled runs."""
    from mloop.automation.monitors import pause_monitor

    use_store(ctx)
    pause_monitor(name, False)
    say(f"resumed monitor {name}")


@handle_errors
def rm(ctx: typer.Context, name: str = typer.Argument(..., help="The monitor.")) -> None:
    """Delete a monitor and its reports."""
    from mloop.automation.monitors import delete_monitor

    use_store(ctx)
    delete_monitor(name)
    say(f"deleted monitor {name}")


COMMANDS: dict[str, Callable[..., None]] = {
    "create": create,
    "ls": ls,
    "show": show,
    "run": run,
    "report": report,
    "pause": pause,
    "resume": resume,
    "rm": rm,
}
"""The commands, by name, that ``mloop monitor`` adds beside ``drift``."""
