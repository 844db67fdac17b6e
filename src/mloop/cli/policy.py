"""``mloop policy``: continuous-training policies and their runs.

Example:
    $ mloop policy create policies/retrain-credit.yaml
    $ mloop policy run retrain-credit --dataset credit@7
    $ mloop policy show 3f2a...          # the chain: why this model is serving
"""

from __future__ import annotations

import contextlib
import re
import sys
from pathlib import Path
from typing import Any

import typer

from mloop.cli.context import creates_store, use_store
from mloop.cli.output import handle_errors, millis_text, print_json, say, table
from mloop.entities import Policy, PolicyRun
from mloop.errors import EXIT_CHECK_FAILED, NotFound

# The automation package is imported inside each command: it loads the registry,
# the pipelines and the serving layer, which `mloop policy --help` need not.

app = typer.Typer(
    help="Policies: retrain, gate and deploy on alerts, new data or a schedule.",
    no_args_is_help=True,
)

_NAME = typer.Argument(..., help="The policy's name.")
_RUN_ID = typer.Argument(..., help="The policy run's id.")
_JSON = typer.Option(False, "--json", help="Print JSON.")
_RUN_ID_FORM = re.compile(r"^[0-9a-f]{32}$")


def _trigger_text(trigger: Any) -> str:
    on = trigger.get("on")
    if on == "alert":
        rule = f" rule {trigger['rule']}" if trigger.get("rule") else ""
        return f"alert of monitor {trigger.get('monitor')}{rule}"
    if on == "dataset":
        return f"new version of dataset {trigger.get('name')}"
    return f"schedule {trigger.get('cron')}"


def _said_run(run: PolicyRun) -> None:
    from mloop.automation.policy_chain import describe_step

    say(f"policy {run.policy} run {run.run_id}: {run.status}")
    for i, record in enumerate(run.chain, 1):
        say(f"  {i}. {describe_step(record)}")
        for line in record.get("notified", []):
            say(f"     notified {line}")
    if run.error:
        say(f"  error: {run.error}")


def _exit_for(run: PolicyRun) -> None:
    if run.status in ("failed", "rolled-back", "cancelled"):
        raise typer.Exit(EXIT_CHECK_FAILED)


@app.command("create")
@handle_errors
@creates_store
def create(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="The policy's YAML spec."),
    as_json: bool = _JSON,
) -> None:
    """Check a policy's YAML spec whole and store it."""
    from mloop.automation import policies

    use_store(ctx)
    made = policies.create_policy(file)
    if as_json:
        print_json(made)
    else:
        say(f"created policy {made.name}: on {_trigger_text(made.trigger)}")


@app.command("ls")
@handle_errors
def list_policies(ctx: typer.Context, as_json: bool = _JSON) -> None:
    """List policies by name, with each one's latest run."""
    from mloop.automation import policies, policy_runs

    use_store(ctx)
    found = policies.list_policies()
    latest = {p.name: next(iter(policy_runs.list_runs(p.name, limit=1)), None) for p in found}
    if as_json:
        print_json([{"policy": p, "latest_run": latest[p.name]} for p in found])
        return
    rows = []
    for p in found:
        last = latest[p.name]
        rows.append(
            [
                p.name,
                _trigger_text(p.trigger),
                p.spec["model"],
                p.spec["deploy"]["deployment"],
                "paused" if p.paused else "active",
                f"{last.status} {millis_text(last.started_time)}" if last else "-",
            ]
        )
    table("Policies", ["name", "trigger", "model", "deployment", "state", "latest run"], rows)


@app.command("show")
@handle_errors
def show(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="A policy's name, or a policy run's id."),
    as_json: bool = _JSON,
) -> None:
    """Show a policy (its settings and recent runs) or a run (its chain, step by step)."""
    from mloop.automation import policies, policy_runs

    use_store(ctx)
    try:
        policy = policies.get_policy(name)
    except NotFound:
        if not _RUN_ID_FORM.match(name):
            raise
        run = policy_runs.get_run(name)
        if as_json:
            print_json(run)
        else:
            _said_run(run)
        return
    runs = policy_runs.list_runs(policy.name, limit=10)
    if as_json:
        print_json({"policy": policy, "runs": runs})
        return
    _show_policy(policy, runs)


def _show_policy(policy: Policy, runs: list[PolicyRun]) -> None:
    spec = policy.spec
    pipeline, gate, deploy = spec["pipeline"], spec["gate"], spec["deploy"]
    params = ", ".join(f"{k}={v}" for k, v in sorted(pipeline.get("params", {}).items()))
    rows = [
        ["trigger", _trigger_text(policy.trigger)],
        ["state", "paused" if policy.paused else "active"],
        ["pipeline", f"{pipeline['file']}:{pipeline['pipeline']}({params})"],
        ["model", spec["model"]],
        ["gate", f"{'; '.join(gate['rules'])} on {gate['data']} (label {gate['targets']})"],
        ["deploy", f"{deploy['deployment']}, canary at {deploy['canary_percent']}%"],
        ["notify", ", ".join(n["kind"] for n in spec.get("notify", [])) or "-"],
        ["timeout", spec.get("timeout", "-")],
        ["created", millis_text(policy.created_time)],
    ]
    if spec.get("dataset"):
        rows.insert(2, ["dataset", f"{spec['dataset']} (bound to ${{dataset}})"])
    table(f"Policy {policy.name}", ["field", "value"], rows)
    table(
        "Recent runs",
        ["run", "status", "started", "ended", "error"],
        [
            [r.run_id, r.status, millis_text(r.started_time), millis_text(r.ended_time),
             r.error or ""]
            for r in runs
        ],
    )  # fmt: skip


@app.command("run")
@handle_errors
def run(
    ctx: typer.Context,
    name: str = _NAME,
    dataset: str | None = typer.Option(
        None, "--dataset", "-d", help="The dataset version ${dataset} binds, e.g. credit@7."
    ),
    as_json: bool = _JSON,
) -> None:
    """Start a run of a policy now and advance it in the foreground (exits 1 if it fails)."""
    from mloop.automation import policy_runs

    use_store(ctx)
    event: dict[str, Any] = {"manual": True}
    if dataset is not None:
        event["dataset"] = dataset
    started = policy_runs.start_run(name, event)
    # With --json, what the pipeline's steps print goes to stderr: stdout is only the JSON.
    with contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext():
        done = policy_runs.advance(started.run_id)
    if as_json:
        print_json(done)
    else:
        _said_run(done)
    _exit_for(done)


@app.command("advance")
@handle_errors
def advance(ctx: typer.Context, run_id: str = _RUN_ID, as_json: bool = _JSON) -> None:
    """Carry a run on from its last step (after an approval, or to read the canary's fate)."""
    from mloop.automation import policy_runs

    use_store(ctx)
    with contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext():
        done = policy_runs.advance(run_id)
    if as_json:
        print_json(done)
    else:
        _said_run(done)
    _exit_for(done)


@app.command("pause")
@handle_errors
def pause(ctx: typer.Context, name: str = _NAME) -> None:
    """Stop a policy from firing (its open runs may still be advanced)."""
    from mloop.automation import policies

    use_store(ctx)
    policies.pause_policy(name)
    say(f"paused policy {name}")


@app.command("resume")
@handle_errors
def resume(ctx: typer.Context, name: str = _NAME) -> None:
    """Let a paused policy fire again."""
    from mloop.automation import policies

    use_store(ctx)
    policies.resume_policy(name)
    say(f"resumed policy {name}")


@app.command("rm")
@handle_errors
def remove(ctx: typer.Context, name: str = _NAME) -> None:
    """Remove a policy and its runs' records (what they deployed stays)."""
    from mloop.automation import policies

    use_store(ctx)
    policies.delete_policy(name)
    say(f"removed policy {name}")
