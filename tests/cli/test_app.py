from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import typer

import mloop
from mloop.cli.app import app
from tests.cli.conftest import invoke, run_mloop

HELP_TARGETS = [
    ([], "mloop: track experiments, version and validate data"),
    (["version"], "Print mloop's version."),
    (["experiments"], "Experiments: named groups of runs."),
    (["experiments", "ls"], "List experiments, oldest first."),
    (["runs"], "Runs: list, inspect, compare, delete."),
    (["runs", "ls"], "List runs, newest first"),
    (["runs", "show"], "Show one run"),
    (["runs", "compare"], "Params and metrics of runs side by side"),
    (["runs", "delete"], "Move runs to the bin"),
    (["runs", "artifacts"], "List a run's artifacts under PATH"),
    (["runs", "metrics"], "Every logged point of one metric of a run"),
    (["gc"], "Purge runs in the bin"),
    (["fsck"], "Re-read every artifact object"),
    (["data"], "Datasets: versioned files and folders."),
    (["data", "add"], "Version a file or folder"),
    (["data", "ls"], "List datasets"),
    (["data", "show"], "Show a version and its files"),
    (["data", "get"], "Copy a version's files into a folder"),
    (["data", "tag"], "Point a tag at a version"),
    (["data", "profile"], "Show a version's schema and column statistics"),
    (["data", "validate"], "Check a version (or a file, before it is versioned)"),
    (["data", "diff"], "What changed: a summary first"),
    (["data", "lineage"], "The run that produced a version"),
    (["data", "rm"], "Remove a version"),
    (["pipeline"], "Run, resume and inspect pipelines."),
    (["pipeline", "run"], "Run a pipeline"),
    (["pipeline", "resume"], "Run again only the steps that failed"),
    (["pipeline", "ls"], "Pipeline runs, newest first."),
    (["pipeline", "show"], "The DAG of a pipeline run"),
    (["models"], "Models: the registry, aliases, governance, gates."),
    (["models", "ls"], "List registered models"),
    (["models", "show"], "Show a model"),
    (["models", "register"], "Register a model package"),
    (["models", "alias"], "Point ALIAS at VERSION"),
    (["models", "rollback"], "Move ALIAS back"),
    (["models", "history"], "Every move of the model's aliases"),
    (["models", "archive"], "Archive a version"),
    (["models", "delete"], "Delete a version"),
    (["models", "describe"], "Set a model's description"),
    (["models", "sign"], "Sign a version registered before"),
    (["models", "verify"], "Re-read every file of a version"),
    (["models", "build"], "Build an image's context and deployment manifests"),
    (["models", "protect"], "Protect ALIAS"),
    (["models", "approve"], "Approve a version"),
    (["models", "reject"], "Reject a version"),
    (["models", "gate"], "Evaluate a version against a baseline"),
    (["models", "card"], "The model card"),
    (["projects"], "Projects: namespaces for experiments, datasets, models."),
    (["projects", "ls"], "List projects by name"),
    (["projects", "create"], "Create an empty project"),
    (["keys"], "Signing keys for model packages."),
    (["keys", "init"], "Create the project's Ed25519 key pair"),
    (["keys", "ls"], "List the public keys the project trusts."),
    (["keys", "revoke"], "Stop trusting a key"),
    (["import"], "Bring another tool's store into mloop."),
    (["import", "mlflow"], "Import MLflow experiments, runs, artifacts, models"),
    (["serve"], "Serve models over HTTP until Ctrl-C"),
    (["predict"], "Score a file or dataset version with a model, in chunks"),
    (["deploy"], "Deployments: what an endpoint serves, canaries, shadows, rollback."),
    (["deploy", "create"], "Create a deployment serving a model version"),
    (["deploy", "ls"], "List deployments by name."),
    (["deploy", "show"], "Show what a deployment serves"),
    (["deploy", "set"], "Change what a deployment serves"),
    (["deploy", "promote"], "Make the canary the primary"),
    (["deploy", "rollback"], "Put back the routing the deployment had"),
    (["deploy", "history"], "Every change of a deployment"),
    (["deploy", "policy"], "Set how a server judges the canary"),
    (["deploy", "analyze"], "Judge a deployment's canary on its logged traffic"),
    (["monitor"], "Monitoring: drift of data and predictions; monitors that run on a schedule."),
    (["monitor", "drift"], "Compare each column of a table with a reference"),
    (["monitor", "create"], "Create a monitor: everything is checked before it is stored."),
    (["monitor", "ls"], "List monitors, with when each last ran and runs next."),
    (["monitor", "show"], "Show a monitor's settings and its latest reports."),
    (["monitor", "run"], "Check the monitor's latest window now"),
    (["monitor", "report"], "List a monitor's reports, or show one"),
    (["monitor", "pause"], "Stop a monitor's scheduled runs"),
    (["monitor", "resume"], "Restart a paused monitor's scheduled runs."),
    (["monitor", "rm"], "Delete a monitor and its reports."),
    (["agent"], "Run due monitors and policies on their schedules until Ctrl-C"),
    (["deploy", "rm"], "Remove a deployment"),
    (["policy"], "Policies: retrain, gate and deploy on alerts, new data or a schedule."),
    (["policy", "create"], "Check a policy's YAML spec whole and store it."),
    (["policy", "ls"], "List policies by name"),
    (["policy", "show"], "Show a policy (its settings and recent runs) or a run"),
    (["policy", "run"], "Start a run of a policy now"),
    (["policy", "advance"], "Carry a run on from its last step"),
    (["policy", "pause"], "Stop a policy from firing"),
    (["policy", "resume"], "Let a paused policy fire again."),
    (["policy", "rm"], "Remove a policy and its runs' records"),
]


def command_paths(command: Any, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    paths = {prefix}
    if hasattr(command, "list_commands"):  # a group: its commands load when asked for
        ctx = typer.Context(command)
        for name in command.list_commands(ctx):
            paths |= command_paths(command.get_command(ctx, name), (*prefix, name))
    return paths


def test_help_targets_cover_every_command() -> None:
    listed = {tuple(args) for args, _ in HELP_TARGETS}
    assert command_paths(typer.main.get_command(app)) == listed


@pytest.mark.parametrize("flag", ["--help", "-h"])
@pytest.mark.parametrize(("args", "summary"), HELP_TARGETS)
def test_help(args: list[str], summary: str, flag: str) -> None:
    code, out, err = invoke(*args, flag)
    assert code == 0, err
    assert f"Usage: mloop {' '.join(args)}".rstrip() in out
    assert summary in out
    assert err == ""


@pytest.mark.parametrize("group", [[], ["runs"], ["experiments"]])
def test_group_without_command_shows_help(group: list[str]) -> None:
    code, out, _ = invoke(*group)
    assert code == 2
    assert "Usage: mloop" in out
    assert "Commands" in out


def test_version() -> None:
    code, out, err = invoke("version")
    assert code == 0
    assert out == f"mloop {mloop.__version__}\n"
    assert mloop.__version__ == metadata.version("mloop")
    assert err == ""


def test_version_json() -> None:
    code, out, _ = invoke("version", "--json")
    assert code == 0
    assert json.loads(out) == {"mloop": mloop.__version__}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bogus"], "No such command 'bogus'"),
        (["runs", "frob"], "No such command 'frob'"),
        (["experiments", "rm"], "No such command 'rm'"),
        (["runs", "ls", "--bogus"], "No such option"),
        (["gc", "--grace-period", "soon"], "--grace-period"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    code, out, err = invoke(*args)
    assert code == 2
    assert message in err
    assert out == ""


def test_global_options_override_the_environment(home: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    client = mloop.Client(
        tracking_uri=f"sqlite:///{other}/mloop.db", artifacts_uri=str(other / "artifacts")
    )
    client.create_experiment("elsewhere")
    code, out, _ = invoke(
        "--tracking-uri",
        f"sqlite:///{other}/mloop.db",
        "--artifacts-uri",
        str(other / "artifacts"),
        "experiments",
        "ls",
        "--json",
    )
    assert code == 0
    assert [e["name"] for e in json.loads(out)] == ["elsewhere"]
    # The environment from the `home` fixture points at an empty store.
    mloop.Client()  # an empty store: read-only commands never create one
    code, out, _ = invoke("experiments", "ls", "--json")
    assert code == 0
    assert json.loads(out) == []


def test_console_script_version() -> None:
    completed = run_mloop("version")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == f"mloop {mloop.__version__}\n"


def test_console_script_help_and_unknown_command() -> None:
    completed = run_mloop("--help")
    assert completed.returncode == 0
    assert "Usage: mloop" in completed.stdout
    for name in ("experiments", "runs", "gc", "version"):
        assert name in completed.stdout
    completed = run_mloop("bogus")
    assert completed.returncode == 2
    assert "No such command 'bogus'" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_python_dash_m_mloop() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mloop", "version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("mloop ")
