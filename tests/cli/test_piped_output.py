"""Piped into a file or a program, tables keep every value whole on its line."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import mloop
from tests.cli.conftest import MLOOP


def test_a_piped_table_never_splits_a_value(home: Path) -> None:
    mloop.set_experiment("a-rather-long-experiment-name-for-a-narrow-terminal")
    ids = []
    for i in range(3):
        with mloop.start_run(run_name=f"run-with-a-long-name-{i}") as run:
            mloop.log_params({"learning_rate": 0.000123456789, "optimizer": "adamw-with-warmup"})
            mloop.log_metrics({"validation_accuracy": 0.923077, "training_loss": 0.1234567})
        ids.append(run.info.run_id)
    mloop.flush()
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}  # as a shell pipe has it
    done = subprocess.run(
        [str(MLOOP), "runs", "ls", "-e", "a-rather-long-experiment-name-for-a-narrow-terminal"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for run_id in ids:
        (line,) = [line for line in lines if run_id in line]  # each id whole, on one line
        assert "0.923077" in line and "run-with-a-long-name-" in line
    assert "\x1b[" not in done.stdout  # no colours in a pipe


def test_a_reader_that_stops_early_ends_the_command_quietly(home: Path) -> None:
    for i in range(3):
        mloop.set_experiment(f"experiment-{i}")
    mloop.flush()
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written, as after `| head -1`
    try:
        done = subprocess.run(
            [str(MLOOP), "experiments", "ls"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (0, "")
