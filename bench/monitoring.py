"""Data drift of a table: mloop against Evidently 0.7 and SciPy's per-column tests.

Both tools judge the same two pandas tables (20 columns: 14 numeric, 6
categorical; fixed seed; some columns shifted). Each (side, size) runs in a
fresh child process; rounds are interleaved (the order of the sides rotates each
round) and the table gives medians. Run it in the virtualenv of
``bench/requirements-monitoring.txt`` (see bench/README.md), so both sides use the
same pandas, NumPy and SciPy.

Sides:

* ``mloop-auto``: ``drift(reference, current)`` (normed Wasserstein on numbers,
  Jensen-Shannon on categories at these sizes, as Evidently's defaults).
* ``mloop-ks``: KS on the numeric columns (``methods={col: "ks"}``), the
  categorical ones as ``auto`` does (Jensen-Shannon): ``method="ks"`` on a text
  column is refused by mloop, and by Evidently (``StatTestInvalidFeatureTypeError``).
* ``mloop-profile-auto`` and ``mloop-profile-ks``: the same, against the
  reference's stored profile (``mloop.monitoring.profile``), as a monitor checks
  a window: the time is reading the profile from its bytes (as stored with the
  dataset version) plus ``drift(profile, current)``; building the profile, done
  once per reference version, is timed apart (``profile_seconds``).
* ``evidently-default``: ``Report([DataDriftPreset()]).run(current, reference)``.
* ``evidently-ks``: ``DataDriftPreset(num_method="ks")`` (``method="ks"`` fails on
  the categorical columns), categorical columns by its default (Jensen-Shannon).
* ``scipy``: the floor: ``scipy.stats.ks_2samp`` per numeric column and
  ``scipy.stats.chi2_contingency`` of the category counts per categorical one.

Times are of the drift computation alone, in a child that has already built the
tables and imported the tool (the import is timed apart). Peak memory: once the
tables are built, the child resets its peak resident set size (``5`` written to
``/proc/self/clear_refs``, Linux) and reads it (``VmHWM``) after the run: the
peak of the import and the run, with the tables; less the RSS at the reset, what
the tool added over the tables. Where the reset fails, ``ru_maxrss`` is used.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import peak_rss_mb, seconds_text, spawn_worker

SIDES = (
    "mloop-auto",
    "mloop-ks",
    "mloop-profile-auto",
    "mloop-profile-ks",
    "evidently-default",
    "evidently-ks",
    "scipy",
)
SEED = 20261206
NUMERIC = [f"num_{i:02d}" for i in range(14)]
CATEGORICAL = [f"cat_{i}" for i in range(6)]
# Rough seconds per million rows of one run, from earlier runs on a 2-core machine:
# only for the estimate printed before the run.
ESTIMATE_PER_MILLION = {
    "mloop-auto": 10.0,
    "mloop-ks": 7.0,
    "mloop-profile-auto": 4.0,
    "mloop-profile-ks": 4.0,
    "evidently-default": 72.0,
    "evidently-ks": 45.0,
    "scipy": 3.5,
}
START_SECONDS = 6.0  # a child's start, table building and import, per run


def make_tables(rows: int, seed: int = SEED) -> tuple[Any, Any]:
    """Reference and current tables: 14 numeric and 6 categorical columns, some shifted."""
    import numpy as np
    import pandas as pd

    def side(rng: Any, shifted: bool) -> Any:
        s = 1.0 if shifted else 0.0
        n = rows
        columns: dict[str, Any] = {}
        # Normal, two of them shifted (one by a little, one by a lot).
        columns["num_00"] = rng.normal(0.0, 1.0, n)
        columns["num_01"] = rng.normal(0.05 * s, 1.0, n)
        columns["num_02"] = rng.normal(0.5 * s, 1.0, n)
        columns["num_03"] = rng.normal(100.0, 15.0 * (1 + 0.2 * s), n)  # wider
        # Lognormal, skewed (income-like), one shifted.
        columns["num_04"] = rng.lognormal(10.0, 1.0, n)
        columns["num_05"] = rng.lognormal(10.0 + 0.3 * s, 1.0, n)
        columns["num_06"] = rng.pareto(2.5, n)
        # Zero-inflated: many exact zeros, then a skewed amount.
        for name, zeros in (("num_07", 0.6), ("num_08", 0.6 + 0.15 * s)):
            amount = rng.gamma(2.0, 50.0, n)
            columns[name] = np.where(rng.random(n) < zeros, 0.0, amount)
        # Integer counts with ties (many repeated values), one shifted.
        columns["num_09"] = rng.poisson(4.0, n).astype(np.int64)
        columns["num_10"] = rng.poisson(4.0 + 0.5 * s, n).astype(np.int64)
        columns["num_11"] = rng.integers(0, 100, n).astype(np.int64)
        # Rounded prices (ties) and a uniform.
        columns["num_12"] = np.round(rng.gamma(3.0, 10.0, n), 1)
        columns["num_13"] = rng.uniform(0.0, 1.0, n)
        # Categorical: 5, 50 and 5,000 categories, some shifted.
        five = np.array(["bronze", "silver", "gold", "platinum", "none"])
        fifty = np.array([f"region-{i:02d}" for i in range(50)])
        many = np.array([f"sku-{i:05d}" for i in range(5000)])
        p5 = np.array([0.4, 0.3, 0.15, 0.05, 0.1])
        p5_shift = np.array([0.3, 0.3, 0.2, 0.1, 0.1])
        columns["cat_0"] = rng.choice(five, n, p=p5)
        columns["cat_1"] = rng.choice(five, n, p=p5_shift if shifted else p5)
        zipf50 = 1.0 / np.arange(1, 51)
        columns["cat_2"] = rng.choice(fifty, n, p=zipf50 / zipf50.sum())
        skew50 = zipf50[::-1] if shifted else zipf50
        columns["cat_3"] = rng.choice(fifty, n, p=skew50 / skew50.sum())
        zipf5k = 1.0 / np.arange(1, 5001) ** 0.8
        columns["cat_4"] = rng.choice(many, n, p=zipf5k / zipf5k.sum())
        columns["cat_5"] = rng.choice(many[: 4500 if shifted else 5000], n)
        return pd.DataFrame(columns)

    rng = np.random.default_rng(seed)
    return side(rng, False), side(rng, True)


def _mloop(reference: Any, current: Any, ks: bool) -> dict[str, dict[str, Any]]:
    from mloop.monitoring import TableProfile, drift

    methods = dict.fromkeys(NUMERIC, "ks") if ks else None
    if isinstance(reference, bytes):  # a stored profile: read it back, as a monitor does
        reference = TableProfile.from_bytes(reference)
    report = drift(reference, current, methods=methods)
    return {
        str(c.column): {
            "method": c.method,
            "statistic": c.statistic,
            "p_value": c.p_value,
            "drifted": c.drifted,
        }
        for c in report.columns
    }


def _evidently(reference: Any, current: Any, ks: bool) -> dict[str, dict[str, Any]]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    ref = Dataset.from_pandas(reference, data_definition=definition)
    cur = Dataset.from_pandas(current, data_definition=definition)
    preset = DataDriftPreset(num_method="ks") if ks else DataDriftPreset()
    snapshot = Report([preset]).run(cur, ref)
    out: dict[str, dict[str, Any]] = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric.get("config", {})
        if config.get("type", "").endswith("ValueDrift"):
            method, value, threshold = config["method"], float(metric["value"]), config["threshold"]
            test = method in {"ks", "chisquare", "z"}
            out[config["column"]] = {
                "method": method,
                "statistic": None if test else value,
                "p_value": value if test else None,
                "drifted": value < threshold if test else value >= threshold,
            }
    return out


def _scipy(reference: Any, current: Any) -> dict[str, dict[str, Any]]:
    import numpy as np
    import pandas as pd
    from scipy.stats import chi2_contingency, ks_2samp

    out: dict[str, dict[str, Any]] = {}
    for name in NUMERIC:
        result = ks_2samp(reference[name].to_numpy(), current[name].to_numpy())
        out[name] = {"method": "ks", "statistic": float(result.statistic)}
        out[name] |= {"p_value": float(result.pvalue), "drifted": bool(result.pvalue < 0.05)}
    for name in CATEGORICAL:
        counts = pd.concat(
            [reference[name].value_counts(), current[name].value_counts()], axis=1
        ).fillna(0)
        result = chi2_contingency(np.asarray(counts, dtype=np.float64).T)
        out[name] = {"method": "chi2", "statistic": float(result.statistic)}
        out[name] |= {"p_value": float(result.pvalue), "drifted": bool(result.pvalue < 0.05)}
    return out


def _version(side: str) -> str:
    from importlib.metadata import version

    package = side.split("-")[0]
    return version("mloop" if package == "mloop" else package)


def _reset_peak() -> bool:
    """Reset this process's peak RSS to its current RSS (Linux), so the peak is the run's."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _status_mb(field: str) -> float:
    """A memory field of /proc/self/status (``VmRSS``, ``VmHWM``), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def run_worker(side: str, rows: int) -> dict[str, Any]:
    """Build the tables, import the tool, time one drift computation."""
    reference, current = make_tables(rows)
    gc.collect()
    reset = _reset_peak()
    rss_tables = _status_mb("VmRSS") if reset else peak_rss_mb()
    start = time.perf_counter()
    if side.startswith("mloop"):
        import scipy.stats  # mloop imports SciPy on first use

        import mloop.monitoring  # noqa: F401
    elif side.startswith("evidently"):
        import evidently.presets  # noqa: F401
    else:
        import scipy.stats  # noqa: F401
    import_seconds = time.perf_counter() - start
    profile_seconds = None
    if side.startswith("mloop-profile"):
        from mloop.monitoring import profile

        start = time.perf_counter()
        reference = profile(reference).to_bytes()
        profile_seconds = time.perf_counter() - start
        gc.collect()
    start = time.perf_counter()
    if side == "scipy":
        columns = _scipy(reference, current)
    elif side.startswith("mloop"):
        columns = _mloop(reference, current, ks=side.endswith("-ks"))
    else:
        columns = _evidently(reference, current, ks=side == "evidently-ks")
    seconds = time.perf_counter() - start
    return {
        "side": side,
        "rows": rows,
        "version": _version(side),
        "seconds": seconds,
        "import_seconds": import_seconds,
        "profile_seconds": profile_seconds,
        "rss_tables_mb": rss_tables,
        "peak_rss_mb": _status_mb("VmHWM") if reset else peak_rss_mb(),
        "peak_reset": reset,
        "columns": columns,
    }


def _spawn(side: str, rows: int, timeout: float) -> dict[str, Any]:
    def environment(_: Path) -> dict[str, str]:
        src = str(Path(__file__).resolve().parents[1] / "src")
        path = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH", "")) if p)
        return {**os.environ, "PYTHONPATH": path, "DO_NOT_TRACK": "true"}

    return spawn_worker(
        __file__, side, str(rows), {"rows": rows}, timeout, environment, prefix="bench-mon"
    )


def _max_diff(a: dict[str, Any], b: dict[str, Any], key: str, names: list[str]) -> float | None:
    diffs = [
        abs(a[n][key] - b[n][key])
        for n in names
        if n in a and n in b and a[n].get(key) is not None and b[n].get(key) is not None
    ]
    return max(diffs) if diffs else None


def _agreement(runs: dict[str, dict[str, Any]]) -> list[str]:
    """Lines saying whether the sides' statistics agree, column by column."""
    cols = {side: run["columns"] for side, run in runs.items() if "columns" in run}
    lines = []

    def compare(x: str, y: str, key: str, names: list[str], what: str) -> None:
        if x in cols and y in cols:
            diff = _max_diff(cols[x], cols[y], key, names)
            drift_x = sorted(n for n in names if cols[x][n]["drifted"])
            drift_y = sorted(n for n in names if cols[y][n]["drifted"])
            same = "same drifted columns" if drift_x == drift_y else "DIFFERENT drifted columns"
            text = "-" if diff is None else f"{diff:.3g}"
            lines.append(f"  {what}: {x} vs {y}: max |diff| {text}; {same}")

    compare("mloop-ks", "scipy", "statistic", NUMERIC, "KS statistic, 14 numeric")
    compare("mloop-ks", "scipy", "p_value", NUMERIC, "KS p-value, 14 numeric")
    compare("mloop-ks", "evidently-ks", "p_value", NUMERIC, "KS p-value, 14 numeric")
    compare("mloop-ks", "evidently-ks", "statistic", CATEGORICAL, "Jensen-Shannon, 6 categorical")
    compare("mloop-auto", "evidently-default", "statistic", NUMERIC, "normed Wasserstein, 14 num")
    compare(
        "mloop-auto", "evidently-default", "statistic", CATEGORICAL, "Jensen-Shannon, 6 categorical"
    )
    return lines


def _median(results: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in results if key in r]
    return statistics.median(values) if values else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="one size, 20,000 rows: a smoke run")
    parser.add_argument("--sizes", default="100000,1000000", help="row counts, comma-separated")
    parser.add_argument("--rounds", type=int, help="rounds at every size (default 3, 2 at 1M+)")
    parser.add_argument("--only", action="append", choices=SIDES, help="run this side only")
    parser.add_argument(
        "--evidently-max-rows",
        type=int,
        help="skip Evidently above this many rows (its default takes minutes at 1M)",
    )
    parser.add_argument("--json", type=Path, help="also write every figure as JSON")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per worker")
    parser.add_argument("--worker", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--case", action="append", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result-file", type=Path, help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args()
    if args.worker:
        result = run_worker(args.worker, int(args.case[0]))
        args.result_file.write_text(json.dumps(result))
        return 0

    sizes = [20_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    sides = list(args.only or SIDES)
    plan: list[tuple[int, list[str], int]] = []
    for rows in sizes:
        here = [
            s
            for s in sides
            if not (s.startswith("evidently") and args.evidently_max_rows is not None)
            or rows <= (args.evidently_max_rows or 0)
        ]
        rounds = args.rounds or (2 if rows >= 1_000_000 else 3)
        plan.append((rows, here, rounds))
    estimate = sum(
        rounds * sum(START_SECONDS + ESTIMATE_PER_MILLION[s] * rows / 1e6 for s in here)
        for rows, here, rounds in plan
    )
    print(f"Estimated run time: about {estimate / 60:.0f} min ({estimate:,.0f} s)", flush=True)

    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for rows, here, rounds in plan:
        for round_no in range(rounds):
            order = here[round_no % len(here) :] + here[: round_no % len(here)]
            for side in order:
                result = _spawn(side, rows, args.timeout)
                results.setdefault(str(rows), {}).setdefault(side, []).append(result)
                shown = seconds_text(result.get("seconds")) if "seconds" in result else "FAILED"
                print(f"  {rows:>9,} rows, round {round_no + 1}/{rounds}: {side} {shown}")
                if "error" in result:
                    print(f"    {result['error']}", file=sys.stderr)

    summary = _report(results, plan)
    if args.json:
        payload = {
            "meta": {
                "python": sys.version.split()[0],
                "cpus": os.cpu_count(),
                "seed": SEED,
                "columns": {"numeric": NUMERIC, "categorical": CATEGORICAL},
                "memory": "peak RSS of each child after the tables were built, MB (VmHWM after "
                "a reset through /proc/self/clear_refs; ru_maxrss where that fails)",
            },
            "summary": summary,
            "results": results,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"Wrote {args.json}", file=sys.stderr)
    failed = any("error" in r for sides_ in results.values() for rs in sides_.values() for r in rs)
    return 1 if failed else 0


def _report(
    results: dict[str, dict[str, list[dict[str, Any]]]], plan: list[tuple[int, list[str], int]]
) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    header = ("side", "median", "runs", "import", "peak RSS", "over tables", "peer / mloop")
    for rows, _here, rounds in plan:
        by_side = results.get(str(rows), {})
        med = {side: _median(rs, "seconds") for side, rs in by_side.items()}
        print(f"\n{rows:,} rows x 20 columns (14 numeric, 6 categorical), {rounds} round(s)")
        lines = [header]
        for side, rs in by_side.items():
            ok = [r for r in rs if "seconds" in r]
            mine = "mloop-ks" if side in ("evidently-ks", "scipy") else "mloop-auto"
            if side.startswith("mloop-profile"):
                mine = side.replace("-profile", "")
            ratio = ""
            if side.startswith("mloop-profile") and med.get(side) and med.get(mine):
                ratio = f"{med[mine] / med[side]:.1f}x faster"
            elif not side.startswith("mloop") and med.get(side) and med.get(mine):
                ratio = f"{med[side] / med[mine]:.1f}x"
            peak = _median(ok, "peak_rss_mb")
            over = peak - (_median(ok, "rss_tables_mb") or 0.0) if peak is not None else None
            lines.append(
                (
                    side,
                    seconds_text(med.get(side)),
                    " ".join(f"{r['seconds']:.2f}" for r in ok) or "failed",
                    seconds_text(_median(ok, "import_seconds")),
                    "-" if peak is None else f"{peak:,.0f} MB",
                    "-" if over is None else f"+{over:,.0f} MB",
                    ratio and f"{ratio} (vs {mine})",
                )
            )
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        for line in lines:
            print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)))
        last = {side: rs[-1] for side, rs in by_side.items() if rs and "columns" in rs[-1]}
        agreement = _agreement(last)
        print("Same statistics (last round):")
        print("\n".join(agreement) or "  (no two comparable sides ran)")
        goals = []
        if med.get("evidently-default") and med.get("mloop-auto"):
            ratio = med["evidently-default"] / med["mloop-auto"]
            verdict = "PASS" if ratio >= 30 else "FAIL"
            if rows < 1_000_000:
                verdict += " (the goal is set at 1M rows; shown here for reference)"
            goals.append(f"  >= 30x Evidently's default: {ratio:.1f}x  {verdict}")
        if med.get("evidently-default") and med.get("mloop-profile-auto"):
            ratio = med["evidently-default"] / med["mloop-profile-auto"]
            goals.append(f"  Evidently's default / mloop with the stored profile: {ratio:.1f}x")
        if med.get("scipy") and med.get("mloop-profile-ks"):
            ratio = med["scipy"] / med["mloop-profile-ks"]
            verdict = "PASS" if ratio >= 1.0 else "FAIL"
            goals.append(
                "  no slower than the SciPy floor, reference profile precomputed: "
                f"scipy / mloop-profile-ks = {ratio:.2f}x  {verdict}"
            )
        built = _median(
            [r for r in by_side.get("mloop-profile-auto", []) if r.get("profile_seconds")],
            "profile_seconds",
        )
        if built is not None:
            goals.append(f"  building the reference profile, once per version: {built:.2f} s")
        goals.append("  peak memory reported for both: PASS (columns 'peak RSS', 'over tables')")
        print("Goals:")
        print("\n".join(goals))
        summary[str(rows)] = {
            "median_seconds": med,
            "agreement": agreement,
            "goals": goals,
        }
    print(
        "\nTimes: the drift computation alone (Evidently: Dataset.from_pandas and "
        "Report.run), medians of interleaved runs, each in a fresh process. 'peak RSS': "
        "the child's peak RSS during the import and the run (VmHWM, reset after the "
        "tables were built); 'over tables': that less the RSS at the reset."
    )
    return summary


if __name__ == "__main__":
    sys.exit(main())
