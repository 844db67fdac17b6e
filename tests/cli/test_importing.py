from __future__ import annotations

import http.server
import io
import json
import logging
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from mloop.cli.importing import quiet_pool_interrupts, sigterm_as_interrupt
from mloop.errors import EXIT_INTERRUPTED, InvalidInput, NotFound, StoreError
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
    deleted = {"reason": "deleted experiment", "item": "abandoned", "detail": ""}
    assert deleted in summary["skipped"]
    assert {k for entry in summary["skipped"] for k in entry} == {"reason", "item", "detail"}


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


def test_sigterm_stops_like_ctrl_c() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), sigterm_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_ctrl_c_in_sqlalchemys_pool_is_not_reported() -> None:
    pool = logging.getLogger("sqlalchemy.pool.impl.QueuePool")
    shown = io.StringIO()
    handler = logging.StreamHandler(shown)
    logging.getLogger().addHandler(handler)

    def cut_short() -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            pool.error("Exception during reset or similar", exc_info=True)

    try:
        with quiet_pool_interrupts():
            cut_short()
        assert shown.getvalue() == ""
        cut_short()  # outside, it is reported as before
        assert "Exception during reset" in shown.getvalue()
    finally:
        logging.getLogger().removeHandler(handler)


class Stalling(http.server.BaseHTTPRequestHandler):
    """Answers MLflow's first question, then hangs on the next until the test ends."""

    asked = threading.Event()
    release = threading.Event()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if b'"max_results": 1}' not in body:  # past the check that it is MLflow
            Stalling.asked.set()
            Stalling.release.wait(30)
        data = b'{"experiments": []}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        return None


def test_a_terminated_import_says_what_it_brought(home: Path) -> None:
    Stalling.asked.clear()
    Stalling.release.clear()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stalling)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        process = subprocess.Popen(
            [str(MLOOP), "import", "mlflow", f"http://127.0.0.1:{httpd.server_address[1]}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert Stalling.asked.wait(60)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        Stalling.release.set()
        httpd.shutdown()
        httpd.server_close()
    assert process.returncode == EXIT_INTERRUPTED, err
    assert "stopped: interrupted; brought before the stop, each whole: 0 experiments" in err
    assert "Traceback" not in err and out == ""
