"""Scripts written for MLflow run on mloop with the word ``mlflow`` replaced by ``mloop``.

Each script in ``mlflow_scripts/`` is plain MLflow code that checks its own
results with ``assert``. It runs on mloop after the rename, nothing else
changed; with ``MLOOP_TEST_MLFLOW_PYTHON`` (set by ``make pytest``) it also
runs unchanged on the real MLflow, which shows it is MLflow code as people
write it and that both give the answers it asserts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).parent / "mlflow_scripts"
NAMES = ["fluent_tracking", "sklearn_autolog", "client_api", "more_names"]


def _clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("MLOOP_", "MLFLOW_"))}


def _run(python: str, script: str, work: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [python, "-c", script],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("name", NAMES)
def test_an_mlflow_script_runs_on_mloop_with_the_word_replaced(name: str, tmp_path: Path) -> None:
    text = (SCRIPTS / f"{name}.py").read_text()
    script = text.replace("mlflow", "mloop")
    assert "mlflow" not in script
    store = tmp_path / "store"
    work = tmp_path / "work"
    work.mkdir()
    # The store comes from MLflow's variables, renamed like everything else in the script.
    env = _clean_environment() | {
        "MLFLOW_TRACKING_URI": str(store),
        "MLFLOW_EXPERIMENT_NAME": "from-env",
    }
    assert _run(sys.executable, script, work, env) == "done"
    assert not (work / ".mloop").exists()  # everything went to the store MLflow's variable named
    assert (store / "mloop.db").exists()


@pytest.mark.parametrize("name", NAMES)
def test_the_same_script_runs_on_mlflow_itself(name: str, tmp_path: Path) -> None:
    python = os.environ.get("MLOOP_TEST_MLFLOW_PYTHON")
    if not python:
        pytest.skip(
            "MLflow's own interpreter is not given (make pytest sets MLOOP_TEST_MLFLOW_PYTHON)"
        )
    work = tmp_path / "work"
    work.mkdir()
    env = _clean_environment() | {
        "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}",
        "MLFLOW_EXPERIMENT_NAME": "from-env",
    }
    assert _run(python, (SCRIPTS / f"{name}.py").read_text(), work, env) == "done"
