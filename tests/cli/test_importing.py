from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from mloop.errors import InvalidInput, NotFound, StoreError
from tests.cli.conftest import MLOOP, invoke
from tests.importing.mlflow.stores import MlflowStore, free_port
from tests.importing.mlflow.stores import mlflow_python as mlflow_python
from tests.importing.mlflow.stores import mlruns_store as mlruns_store


def test_import_prints_a_summary_then_finds_everything_there(
    home: Path, mlruns_store: MlflowStore
) -> None:
    code, out, err = invoke("import", "mlflow", mlruns_store.source)
    assert code == 0, err
    assert "brought" in out
    assert "left out, deleted experiment: abandoned" in out
    code, out, err = invoke("import", "mlflow", mlruns_store.source, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["runs"] == {"brought": 0, "already": 3}
    assert summary["versions"] == {"brought": 0, "already": 3}


def test_a_dry_run_says_what_would_come(home: Path, mlruns_store: MlflowStore) -> None:
    code, out, err = invoke("import", "mlflow", mlruns_store.source, "--dry-run")
    assert code == 0, err
    assert "would bring" in out
    code, out, _ = invoke("experiments", "ls", "--json")
    assert "credit" not in out


def test_only_the_named_experiment(home: Path, mlruns_store: MlflowStore) -> None:
    code, out, err = invoke("import", "mlflow", mlruns_store.source, "-e", "credit", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["experiments"]["brought"], summary["runs"]["brought"]) == (1, 3)
    code, _, err = invoke("import", "mlflow", mlruns_store.source, "-e", "nope")
    assert code == InvalidInput.exit_code
    assert "no experiment named 'nope'" in err


def test_a_database_password_is_never_shown(home: Path) -> None:
    code, out, err = invoke("import", "mlflow", "postgresql://ana:S3CRET@127.0.0.1:1/mlflow")
    assert code == StoreError.exit_code
    assert "S3CRET" not in out + err
    assert "ana:***@127.0.0.1:1" in err


def test_a_missing_folder(home: Path, tmp_path: Path) -> None:
    code, _, err = invoke("import", "mlflow", str(tmp_path / "nope"))
    assert code == NotFound.exit_code
    assert "no such folder" in err


def test_a_folder_that_is_not_mlruns(home: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, _, err = invoke("import", "mlflow", str(tmp_path / "empty"))
    assert code == InvalidInput.exit_code
    assert "not an MLflow mlruns folder" in err


def test_an_unknown_kind_of_source(home: Path) -> None:
    code, _, err = invoke("import", "mlflow", "s3://bucket/mlruns")
    assert code == InvalidInput.exit_code
    assert "cannot import from 's3://bucket/mlruns'" in err


def test_a_server_with_nothing_listening(home: Path) -> None:
    code, _, err = invoke("import", "mlflow", f"http://127.0.0.1:{free_port()}")
    assert code == StoreError.exit_code
    assert "cannot reach the MLflow server" in err


def test_a_summary_piped_into_a_reader_gone_early_ends_quietly(
    home: Path, mlruns_store: MlflowStore
) -> None:
    read, write = os.pipe()
    os.close(read)  # as after `| head -1`
    try:
        done = subprocess.run(
            [str(MLOOP), "import", "mlflow", mlruns_store.source, "--dry-run"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (0, "")


def test_a_piped_summary_names_the_source_whole_and_normalised(
    home: Path, mlruns_store: MlflowStore
) -> None:
    source = Path(mlruns_store.source)
    roundabout = f"{source.parent}/./../{source.parent.name}/{source.name}/"
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}  # as a shell pipe has it
    done = subprocess.run(
        [str(MLOOP), "import", "mlflow", roundabout, "--dry-run"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"Import from MLflow {source.resolve()}"
    assert any("artifact size" in line and " bytes" in line for line in done.stdout.splitlines())
