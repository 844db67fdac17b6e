"""The ``search`` case of ``bench/tracking.py``: ``search_runs`` as a user calls it.

Both libraries are called through their fluent ``search_runs``, which returns a
pandas DataFrame in both (MLflow's default ``output_format`` is ``"pandas"``,
with up to 100,000 rows; mloop's the same), so like is compared with like:
a metric filter AND a param filter, an ``order_by`` on a metric, every
matching run returned as a frame.

Each library's store is populated once (untimed), one experiment per size,
each run with 10 params, 10 metrics and 3 tags of realistic values (mloop
adds its own system tags, MLflow its ``mlflow.*`` ones). The timing is
interleaved: each round starts a fresh worker per library, in turn (the order
flips every round), which opens the store, calls the search once untimed
(imports, connection) and then times ``search_repeats`` calls. Figures are
the median over all rounds; the spread of the round medians says how noisy
the machine was.
"""

from __future__ import annotations

import math
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

SEARCH_FILTER: Final = "metrics.accuracy > 0.5 and params.model = 'xgboost'"
SEARCH_ORDER_BY: Final = ("metrics.auc DESC",)
ORDER_COLUMN: Final = "metrics.auc"
_LEARNING_RATES: Final = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3)


def experiment_name(size: int) -> str:
    return f"search-{size}"


def run_values(index: int) -> tuple[dict[str, str], dict[str, float], dict[str, str]]:
    """Params, metrics and tags of run ``index``, the same for both libraries.

    ``model == 'xgboost'`` for 2/3 of the runs and ``accuracy > 0.5`` for 3/4
    of them, so about half the runs match :data:`SEARCH_FILTER`.
    """
    rng = random.Random(index)
    params = {
        "model": "xgboost" if index % 3 else "lightgbm",
        "learning_rate": str(rng.choice(_LEARNING_RATES)),
        "max_depth": str(rng.randint(2, 12)),
        "n_estimators": str(rng.choice((100, 200, 500, 1000))),
        "subsample": f"{rng.uniform(0.5, 1.0):.2f}",
        "colsample_bytree": f"{rng.uniform(0.5, 1.0):.2f}",
        "min_child_weight": str(rng.randint(1, 10)),
        "tree_method": rng.choice(("hist", "approx", "exact")),
        "seed": str(index),
        "data_version": f"v{1 + index // 2_500}",
    }
    accuracy = math.sqrt(rng.random())
    metrics = {
        "accuracy": accuracy,
        "auc": rng.random(),
        "f1": rng.random(),
        "precision": rng.random(),
        "recall": rng.random(),
        "log_loss": -math.log(max(accuracy, 1e-9)),
        "val_loss": rng.uniform(0.1, 2.0),
        "train_loss": rng.uniform(0.05, 1.5),
        "rmse": rng.uniform(0.0, 5.0),
        "train_seconds": rng.uniform(1.0, 600.0),
    }
    tags = {
        "team": rng.choice(("risk", "growth", "ops")),
        "stage": rng.choice(("dev", "staging", "prod")),
        "git_commit": f"{rng.getrandbits(160):040x}",
    }
    return params, metrics, tags


def populate(ctx: Any) -> dict[str, Any]:
    """Worker: one experiment per size, filled by each library's fastest supported path."""
    lib = ctx.module
    lib.set_tracking_uri(ctx.uri)
    per_size: dict[str, Any] = {}
    for size in sorted(ctx.sizes.search_runs):
        experiment = lib.set_experiment(experiment_name(size))
        start = time.perf_counter()
        if ctx.is_mloop:
            for i in range(size):
                params, metrics, tags = run_values(i)
                with lib.start_run(run_name=f"run-{i}"):
                    lib.log_params(params)
                    lib.log_metrics(metrics)
                    lib.set_tags(tags)
            ctx.flush()
        else:
            _populate_mlflow(ctx, experiment.experiment_id, size)
        per_size[str(size)] = {"populate_seconds": time.perf_counter() - start}
    return {"sizes": per_size}


def _populate_mlflow(ctx: Any, experiment_id: str, size: int) -> None:
    from mlflow.entities import Metric, Param, RunTag

    client = ctx.client()
    for i in range(size):
        params, metrics, tags = run_values(i)
        run_id = client.create_run(experiment_id, run_name=f"run-{i}").info.run_id
        timestamp = int(time.time() * 1000)
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, timestamp, 0) for k, v in metrics.items()],
            params=[Param(k, v) for k, v in params.items()],
            tags=[RunTag(k, v) for k, v in tags.items()],
        )
        client.set_terminated(run_id)


def time_search(ctx: Any) -> dict[str, Any]:
    """Worker: one round: per size, one untimed call, then ``search_repeats`` timed ones."""
    lib = ctx.module
    lib.set_tracking_uri(ctx.uri)
    per_size: dict[str, Any] = {}
    for size in sorted(ctx.sizes.search_runs):

        def search(size: int = size) -> Any:
            return lib.search_runs(
                experiment_names=[experiment_name(size)],
                filter_string=SEARCH_FILTER,
                order_by=list(SEARCH_ORDER_BY),
            )

        frame = search()
        timings = []
        for _ in range(ctx.sizes.search_repeats):
            start = time.perf_counter()
            frame = search()
            timings.append(time.perf_counter() - start)
        ordered = (
            bool(frame[ORDER_COLUMN].is_monotonic_decreasing) if ORDER_COLUMN in frame else None
        )
        per_size[str(size)] = {
            "seconds": timings,
            "rows": len(frame),
            "columns": len(frame.columns),
            "frame_type": type(frame).__name__,
            "ordered": ordered,
        }
    return {"sizes": per_size}


def run_interleaved(
    libs: Sequence[str],
    sizes: Any,
    spawn: Callable[[str, str, Path], dict[str, Any]],
    say: Callable[[str], None],
) -> dict[str, dict[str, Any]]:
    """Populate each library's store, then time both in alternating rounds; merged results."""
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        folders = {lib: Path(tmp) / lib for lib in libs}
        populated: dict[str, dict[str, Any]] = {}
        for lib in libs:
            folders[lib].mkdir()
            say(f"[{lib:>6}] search: populate {', '.join(map(str, sizes.search_runs))} runs")
            populated[lib] = spawn(lib, "search_populate", folders[lib])
        rounds: dict[str, list[dict[str, Any]]] = {lib: [] for lib in libs}
        for number in range(sizes.search_rounds):
            for lib in libs if number % 2 == 0 else list(reversed(libs)):
                if "error" in populated[lib]:
                    continue
                say(f"[{lib:>6}] search: round {number + 1} of {sizes.search_rounds}")
                rounds[lib].append(spawn(lib, "search_time", folders[lib]))
        for lib in libs:
            results[lib] = merge(populated[lib], rounds[lib])
    return results


def merge(populated: Mapping[str, Any], rounds: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One library's search result from its populate worker and its timing rounds."""
    failed = [r for r in (populated, *rounds) if "error" in r]
    if failed:
        return {"error": failed[0]["error"]}
    per_size: dict[str, Any] = {}
    for size, entry in populated["sizes"].items():
        timings = [t for r in rounds for t in r["sizes"][size]["seconds"]]
        round_medians = [statistics.median(r["sizes"][size]["seconds"]) for r in rounds]
        last = rounds[-1]["sizes"][size]
        median = statistics.median(timings)
        per_size[size] = {
            "runs": int(size),
            "median_seconds": median,
            "all_seconds": timings,
            "round_medians": round_medians,
            "spread": (max(round_medians) - min(round_medians)) / median,
            "rows": last["rows"],
            "columns": last["columns"],
            "frame_type": last["frame_type"],
            "ordered": last["ordered"],
            "populate_seconds": entry["populate_seconds"],
        }
    workers = [populated, *rounds]
    return {
        "sizes": per_size,
        "rounds": len(rounds),
        "peak_rss_mb": max(w["peak_rss_mb"] for w in workers),
        "import_seconds": statistics.median(w["import_seconds"] for w in rounds),
        "version": populated["version"],
    }


def noise_notes(results: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """How far apart each library's round medians were, per size."""
    notes = []
    for lib, cases in results.items():
        search = cases.get("search", {})
        for size, entry in search.get("sizes", {}).items():
            medians = ", ".join(f"{m * 1000:.1f}" for m in entry["round_medians"])
            notes.append(
                f"{lib} search over {int(size):,} runs: round medians {medians} ms"
                f" (spread {entry['spread']:.0%} of the median)"
            )
    return notes
