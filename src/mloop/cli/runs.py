"""``mloop runs``: list, show, compare and delete runs; their artifacts and metric histories."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mloop.cli.context import client_from
from mloop.cli.output import duration_text, handle_errors, millis_text, print_json, say, table
from mloop.cli.run_ids import resolve_run_id, resolve_run_ids
from mloop.entities import Run, ViewType
from mloop.errors import NotFound
from mloop.tracking.liveness import is_dead, status_text

if TYPE_CHECKING:
    from mloop.tracking.client import Client

app = typer.Typer(help="Runs: list, inspect, compare, delete.", no_args_is_help=True)

_MAX_METRIC_COLUMNS = 6


def _experiment_ids(client: Client, names: list[str] | None) -> list[str]:
    if not names:
        return [e.experiment_id for e in client.search_experiments()]
    ids = []
    for name in names:
        found = client.get_experiment_by_name(name)
        if found is None:
            raise NotFound(f"experiment {name!r} not found (see: mloop experiments ls)")
        ids.append(found.experiment_id)
    return ids


def _summary(run: Run) -> dict[str, Any]:
    info = run.info
    return {
        "run_id": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "status": info.status.value,
        "dead": is_dead(info),
        "start_time": info.start_time,
        "end_time": info.end_time,
        "metrics": dict(run.data.metrics),
        "params": dict(run.data.params),
    }


@app.command("ls")
@handle_errors
def list_runs(
    ctx: typer.Context,
    experiment: list[str] | None = typer.Option(
        None, "--experiment", "-e", help="Experiment name (repeatable; default: all)."
    ),
    filter_string: str | None = typer.Option(
        None, "--filter", "-f", help="e.g. \"metrics.auc > 0.9 and params.lr = '0.1'\""
    ),
    order_by: list[str] | None = typer.Option(
        None, "--order-by", "-o", help="e.g. 'metrics.auc DESC' (repeatable)."
    ),
    max_results: int = typer.Option(100, "--max-results", "-n", min=1, help="At most this many."),
    deleted: bool = typer.Option(False, "--deleted", help="Only runs in the bin."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List runs, newest first unless --order-by says otherwise."""
    client = client_from(ctx)
    ids = _experiment_ids(client, experiment)
    view = ViewType.DELETED_ONLY if deleted else ViewType.ACTIVE_ONLY
    runs = list(client.search_runs(ids, filter_string, view, max_results, order_by)) if ids else []
    if as_json:
        print_json([_summary(r) for r in runs])
        return
    metric_keys = sorted({k for r in runs for k in r.data.metrics})[:_MAX_METRIC_COLUMNS]
    table(
        f"Runs ({len(runs)})",
        ["run_id", "name", "status", "started", "duration", *metric_keys],
        [
            (
                r.info.run_id,
                r.info.run_name,
                status_text(r.info),
                millis_text(r.info.start_time),
                duration_text(r.info.start_time, r.info.end_time),
                *(r.data.metrics.get(k) for k in metric_keys),
            )
            for r in runs
        ],
    )


@app.command("show")
@handle_errors
def show_run(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., help="The run's id, or a unique prefix of it."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Show one run: info, params, metrics, tags, inputs/outputs and artifacts."""
    client = client_from(ctx)
    run_id = resolve_run_id(client, run_id)
    run = client.get_run(run_id)
    artifacts = client.list_artifacts(run_id, recursive=True)
    if as_json:
        print_json({"run": run, "dead": is_dead(run.info), "artifacts": artifacts})
        return
    info = run.info
    table(
        f"Run {info.run_id}",
        ["field", "value"],
        [
            ("name", info.run_name),
            ("experiment_id", info.experiment_id),
            ("status", status_text(info)),
            ("started", millis_text(info.start_time)),
            ("owner", info.owner),
            ("heartbeat", millis_text(info.heartbeat_time)),
            ("duration", duration_text(info.start_time, info.end_time)),
            ("parent", info.parent_run_id),
            ("stage", info.lifecycle_stage.value),
        ],
    )
    for title, mapping in (
        ("Params", run.data.params),
        ("Metrics", run.data.metrics),
        ("Tags", run.data.tags),
    ):
        if mapping:
            table(title, ["key", "value"], sorted(mapping.items()))
    if run.inputs or run.outputs:
        table(
            "Inputs and outputs",
            ["direction", "kind", "name", "digest"],
            [(i.direction, i.kind, i.name, i.digest) for i in (*run.inputs, *run.outputs)],
        )
    if artifacts:
        table(
            "Artifacts", ["path", "size", "digest"], [(a.path, a.size, a.digest) for a in artifacts]
        )
    if info.error:
        say("error recorded:", style="bold red")
        say(info.error, soft_wrap=True)


@app.command("compare")
@handle_errors
def compare_runs(
    ctx: typer.Context,
    run_ids: list[str] = typer.Argument(..., help="Two or more run ids (or unique prefixes)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Params and metrics of runs side by side; rows that differ are marked with *."""
    if len(run_ids) < 2:
        raise typer.BadParameter("compare needs at least two run ids")
    client = client_from(ctx)
    run_ids = resolve_run_ids(client, run_ids)
    runs = [client.get_run(run_id) for run_id in run_ids]
    rows: list[tuple[str, ...]] = []
    data: dict[str, dict[str, Any]] = {}
    for kind in ("params", "metrics"):
        keys = sorted({k for r in runs for k in getattr(r.data, kind)})
        for key in keys:
            values = [getattr(r.data, kind).get(key) for r in runs]
            data[f"{kind}.{key}"] = dict(zip(run_ids, values, strict=True))
            mark = "*" if len({repr(v) for v in values}) > 1 else ""
            rows.append((f"{mark}{kind}.{key}", *(("-" if v is None else v) for v in values)))
    if as_json:
        print_json(data)
        return
    table("Compare runs", ["key", *(r.info.run_name for r in runs)], rows)


@app.command("delete")
@handle_errors
def delete_runs(
    ctx: typer.Context,
    run_ids: list[str] = typer.Argument(..., help="Run ids or prefixes to move to the bin."),
    restore: bool = typer.Option(False, "--restore", help="Bring the runs back instead."),
) -> None:
    """Move runs to the bin (`mloop gc` removes them for good), or --restore them."""
    client = client_from(ctx)
    run_ids = resolve_run_ids(client, run_ids)
    for run_id in run_ids:
        client.get_run(run_id)  # every id must exist before anything changes
    for run_id in run_ids:
        if restore:
            client.restore_run(run_id)
        else:
            client.delete_run(run_id)
    verb = "restored" if restore else "deleted"
    say(f"{verb} {len(run_ids)} run(s)")


@app.command("artifacts")
@handle_errors
def list_artifacts(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., help="The run's id, or a unique prefix of it."),
    path: str | None = typer.Argument(None, help="A folder or file inside the run's artifacts."),
    recursive: bool = typer.Option(False, "--recursive", "-r", help="Every file below PATH."),
    download: Path | None = typer.Option(
        None, "--download", "-d", help="Copy PATH (default: everything) into this folder."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List a run's artifacts under PATH, or copy them to a folder with --download."""
    client = client_from(ctx)
    run_id = client.get_run(resolve_run_id(client, run_id)).info.run_id
    if download is not None:
        local = client.download_artifacts(run_id, path, download)
        if as_json:
            print_json({"run_id": run_id, "path": path or "", "local_path": local})
        else:
            say(local)
        return
    items = client.list_artifacts(run_id, path, recursive=recursive)
    if path and not items:
        raise NotFound(f"run {run_id} has no artifact at {path!r} (see: mloop runs artifacts)")
    if as_json:
        print_json(items)
        return
    table(
        f"Artifacts of run {run_id}" + (f" under {path}" if path else ""),
        ["path", "size", "digest"],
        [(a.path + ("/" if a.is_dir else ""), a.size, a.digest) for a in items],
    )


@app.command("metrics")
@handle_errors
def metric_history(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., help="The run's id, or a unique prefix of it."),
    key: str = typer.Argument(..., help="The metric's name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Every logged point of one metric of a run: step, value and time, by step."""
    client = client_from(ctx)
    run = client.get_run(resolve_run_id(client, run_id))
    points = client.get_metric_history(run.info.run_id, key)
    if not points:
        known = ", ".join(sorted(run.data.metrics)) or "none"
        raise NotFound(f"run {run.info.run_id} has no metric {key!r} (its metrics: {known})")
    if as_json:
        print_json([{"step": p.step, "value": p.value, "timestamp": p.timestamp} for p in points])
        return
    # The heading as a line of its own: a table as narrow as this one would wrap it.
    say(f"{key} of run {run.info.run_id} ({len(points)} points)")
    table(
        None,
        ["step", "value", "time"],
        [(p.step, p.value, millis_text(p.timestamp)) for p in points],
    )
