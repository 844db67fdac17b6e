"""Module-level steps and pipelines for the pipeline tests (worker processes import them)."""

from __future__ import annotations

import collections
import os
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

import mloop

CALLS: collections.Counter[str] = collections.Counter()
FAIL: set[str] = set()  # steps that raise (in this process)
FLAKY: dict[str, int] = {}  # step -> failures left


class Split(NamedTuple):
    train: pd.DataFrame
    test: pd.DataFrame


def _maybe_fail(name: str) -> None:
    CALLS[name] += 1
    if name in FAIL:
        raise RuntimeError(f"{name} was told to fail")
    if FLAKY.get(name, 0) > 0:
        FLAKY[name] -= 1
        raise ConnectionError(f"{name} is flaky")


@mloop.step
def load(rows: int) -> pd.DataFrame:
    _maybe_fail("load")
    print(f"loading {rows} rows")
    return pd.DataFrame({"x": np.arange(rows, dtype=float), "label": np.arange(rows) % 2})


@mloop.step
def split(frame: pd.DataFrame, fraction: float = 0.75) -> Split:
    _maybe_fail("split")
    cut = int(len(frame) * fraction)
    return Split(frame.iloc[:cut], frame.iloc[cut:])


@mloop.step(retries=2, retry_delay=0.01)
def train(frame: pd.DataFrame, lr: float) -> dict[str, float]:
    _maybe_fail("train")
    mloop.log_metric("train_loss", 0.25)
    return {"weight": float(frame["x"].mean()) * lr}


@mloop.step
def evaluate(model: dict[str, float], test: pd.DataFrame) -> float:
    _maybe_fail("evaluate")
    return model["weight"] + len(test)


@mloop.pipeline
def training(rows: int = 40, lr: float = 0.1) -> None:
    frame = load(rows)
    parts = split(frame)
    model = train(parts.train, lr)
    evaluate(model, parts.test)


@mloop.step
def square(x: int) -> int:
    return x * x


@mloop.step
def total(values: list[int]) -> int:
    return sum(values)


@mloop.step
def collect(a: int, b: int, c: int) -> list[int]:
    return [a, b, c]


@mloop.pipeline
def fan(n: int = 3) -> None:
    total(collect(square(n), square(n + 1), square(n + 2)))


@mloop.step
def rendezvous(folder: str, me: str, other: str) -> int:
    """Announces itself, then waits for ``other``: succeeds only if both run at once."""
    Path(folder, f"{me}.started").write_text(str(os.getpid()))
    deadline = time.monotonic() + 60
    while not Path(folder, f"{other}.started").exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{other} never ran alongside {me}")
        time.sleep(0.02)
    return os.getpid()


@mloop.pipeline
def parallel(folder: str) -> None:
    rendezvous(folder, "a", "b")
    rendezvous(folder, "b", "a")


@mloop.step(timeout=0.5)
def slow(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@mloop.pipeline
def too_slow(seconds: float = 5.0) -> None:
    slow(seconds)


@mloop.step
def fails_unless(flag: str) -> str:
    if not Path(flag).exists():
        raise RuntimeError(f"{flag} is missing")
    return "ok"


@mloop.pipeline
def branches(flag: str) -> None:
    fails_unless(flag)
    total(collect(square(1), square(2), square(3)))


@mloop.step
def note(text: str) -> str:
    """Logs ``text`` as its run's artifact ``note.txt`` through the fluent API."""
    mloop.log_text(text, "note.txt")
    return text.upper()


@mloop.pipeline
def noted(text: str = "hello") -> None:
    note(text)


@mloop.step(cache=False)
def where_am_i(dataset: str) -> str:
    """What a step body sees: its project, who acts, and a dataset named in that project."""
    actor = mloop.Client().context.actor.name
    return f"{mloop.get_project()} {actor} {mloop.data.get(dataset).ref}"


@mloop.pipeline
def located(dataset: str = "ds") -> None:
    where_am_i(dataset)
