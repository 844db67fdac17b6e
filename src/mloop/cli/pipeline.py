"""``mloop pipeline run | resume | ls | show``.

Example:
    $ mloop pipeline run examples/pipeline.py:training --param lr=0.2
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
import yaml

from mloop.cli.context import client_from, creates_store, use_store
from mloop.cli.output import console, duration_text, handle_errors, print_json, table
from mloop.cli.run_ids import resolve_run_id
from mloop.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from mloop.entities import Run
    from mloop.pipelines.dsl import Pipeline
    from mloop.tracking.client import Client

# The pipelines package is imported inside the commands, not here: it loads the
# tracking, data and model layers (SQLAlchemy, fsspec, pyarrow), which
# `mloop pipeline --help` need not.

app = typer.Typer(help="Run, resume and inspect pipelines.", no_args_is_help=True)


def load_pipeline(target: str) -> Pipeline:
    """The ``@mloop.pipeline`` at ``module:function`` or ``path/to/file.py:function``.

    Example:
        >>> load_pipeline("examples/pipeline.py:training").name  # doctest: +SKIP
        'training'

    Raises:
        InvalidInput: a malformed target, a module that cannot be imported, or not a pipeline.
    """
    from mloop.pipelines.dsl import Pipeline  # heavy: see the note at the top

    module_name, _, attribute = target.rpartition(":")
    if not module_name or not attribute:
        raise InvalidInput(f"expected MODULE:FUNCTION or FILE.py:FUNCTION, got {target!r}")
    try:
        if module_name.endswith(".py"):
            path = Path(module_name).resolve()
            if not path.is_file():
                raise InvalidInput(f"no such file: {module_name}")
            # Worker processes import steps by module name: make the file's folder importable.
            sys.path.insert(0, str(path.parent))
            module = importlib.import_module(path.stem)
        else:
            sys.path.insert(0, os.getcwd())
            module = importlib.import_module(module_name)
    except ImportError as err:
        raise InvalidInput(f"cannot import {module_name!r}: {err}") from None
    found = getattr(module, attribute, None)
    if not isinstance(found, Pipeline):
        raise InvalidInput(f"{target!r} is not an @mloop.pipeline function")
    return found


def _params(config: Path | None, pairs: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if config is not None:
        try:
            loaded = yaml.safe_load(config.read_text()) or {}
        except (OSError, yaml.YAMLError) as err:
            raise InvalidInput(f"cannot read config {str(config)!r}: {err}") from None
        if not isinstance(loaded, dict):
            raise InvalidInput(f"config {str(config)!r} must be a mapping of parameter: value")
        params.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"--param takes KEY=VALUE, got {pair!r}")
        params[key.strip()] = value
    return params


def _print_result(result: Any, as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    rows = [
        (s.node, s.status, "yes" if s.cached else "", f"{s.seconds:.3f}s", s.run_id or "-")
        for s in result.steps.values()
    ]
    headers = ["step", "status", "cached", "time", "run"]
    table(f"pipeline {result.name} run {result.run_id}", headers, rows)


@app.command("run")
@handle_errors
@creates_store
def run_command(
    ctx: typer.Context,
    target: str = typer.Argument(..., help="MODULE:FUNCTION or FILE.py:FUNCTION."),
    param: list[str] = typer.Option([], "--param", "-p", help="KEY=VALUE (repeatable)."),
    config: Path | None = typer.Option(None, "--config", "-c", help="YAML file of params."),
    executor: str = typer.Option("local", "--executor", help="Where steps run: local or ray."),
    max_workers: int | None = typer.Option(
        None, "--max-workers", "-w", help="Steps at once (local default 1; ray: the cluster's)."
    ),
    address: str | None = typer.Option(None, "--address", help="Ray cluster address."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Run every step again."),
    experiment: str | None = typer.Option(None, "--experiment", "-e", help="Experiment name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Run a pipeline; exits 9 when a step fails (resume it with `mloop pipeline resume`)."""
    use_store(ctx)  # the runner, and its workers after it, use the stores given to `mloop`
    pipeline = load_pipeline(target)
    values = pipeline.bind_params(_params(config, param), from_text=True)
    # With --json, what steps print goes to stderr so that stdout is only the JSON.
    with contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext():
        result = pipeline.run(
            executor=executor,
            max_workers=max_workers,
            address=address,
            cache=not no_cache,
            experiment=experiment,
            **values,
        )
    _print_result(result, as_json)


@app.command("resume")
@handle_errors
def resume_command(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., help="The pipeline run to resume (or a unique prefix)."),
    executor: str = typer.Option("local", "--executor", help="Where steps run: local or ray."),
    max_workers: int | None = typer.Option(
        None, "--max-workers", "-w", help="Steps at once (local default 1; ray: the cluster's)."
    ),
    address: str | None = typer.Option(None, "--address", help="Ray cluster address."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Run again only the steps that failed or never ran, reusing every finished output."""
    from mloop.pipelines.resuming import resume  # heavy: see the note at the top
    from mloop.tracking import fluent

    use_store(ctx)
    run_id = resolve_run_id(fluent.current_client(), run_id)
    sys.path.insert(0, os.getcwd())
    with contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext():
        result = resume(run_id, executor=executor, max_workers=max_workers, address=address)
    _print_result(result, as_json)


def _pipeline_runs(client: Client) -> list[Run]:
    ids = [e.experiment_id for e in client.search_experiments()]
    if not ids:
        return []
    return list(
        client.search_runs(
            ids,
            filter_string="tags.`mloop.kind` = 'pipeline'",
            order_by=["attributes.start_time DESC"],
            max_results=1000,
        )
    )


@app.command("ls")
@handle_errors
def ls_command(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """Pipeline runs, newest first."""
    runs = _pipeline_runs(client_from(ctx))
    if as_json:
        print_json(
            [
                {
                    "run_id": r.info.run_id,
                    "pipeline": r.data.tags.get("mloop.pipeline.name"),
                    "status": r.info.status.value,
                    "start_time": r.info.start_time,
                    "end_time": r.info.end_time,
                }
                for r in runs
            ]
        )
        return
    rows = [
        (
            r.info.run_id,
            r.data.tags.get("mloop.pipeline.name", "-"),
            r.info.status.value,
            duration_text(r.info.start_time, r.info.end_time),
        )
        for r in runs
    ]
    table("pipeline runs", ["run", "pipeline", "status", "duration"], rows)


@app.command("show")
@handle_errors
def show_command(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., help="A pipeline run id, or a unique prefix of it."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The DAG of a pipeline run with each step's status, duration and cache use."""
    from mloop.pipelines.history import KIND, NODE_TAG, step_runs  # heavy: see the top

    client = client_from(ctx)
    run_id = resolve_run_id(client, run_id)
    run = client.get_run(run_id)
    if run.data.tags.get(KIND) != "pipeline":
        raise NotFound(f"run {run_id} is not a pipeline run")
    nodes = json.loads(client.load_text(run_id, "pipeline/graph.json"))["nodes"]
    latest: dict[str, Run] = {}
    for step_run in step_runs(client, run):  # oldest first: the last attempt wins
        latest[step_run.data.tags.get(NODE_TAG, "")] = step_run
    steps = []
    for node in nodes:
        found = latest.get(node["id"])
        steps.append(
            {
                "step": node["id"],
                "upstream": sorted({source for source, _ in node["inputs"].values()}),
                "status": found.info.status.value if found else "NOT RUN",
                "cached": bool(found and found.data.tags.get("mloop.step.cached") == "true"),
                "duration": duration_text(found.info.start_time, found.info.end_time)
                if found
                else "-",
                "run_id": found.info.run_id if found else None,
            }
        )
    if as_json:
        print_json({"run_id": run_id, "status": run.info.status.value, "steps": steps})
        return
    name = run.data.tags.get("mloop.pipeline.name", "")
    # Imported here, where the tree is drawn (see mloop.cli.output.console).
    from rich.text import Text
    from rich.tree import Tree

    tree = Tree(Text(f"pipeline {name} · {run.info.status.value} · run {run_id}"))
    branches: dict[str, Tree] = {}
    for item in steps:
        label = f"{item['step']} · {item['status']} · {item['duration']}"
        if item["cached"]:
            label += " · cached"
        parents = item["upstream"]
        parent = branches.get(parents[-1], tree) if parents else tree
        if len(parents) > 1:
            label += f" (after {', '.join(parents)})"
        branches[item["step"]] = parent.add(Text(label))
    console().print(tree)
