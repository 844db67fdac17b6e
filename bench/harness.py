"""What every side-by-side benchmark script shares: child workers and memory figures.

Each (library, case) runs in its own child process — the calling script again,
started with ``--worker`` — in a fresh temporary directory, so libraries never
share import state and each child's peak memory is its own.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size of this process (or its largest child), in MB."""
    rss = resource.getrusage(who).ru_maxrss
    return rss / 1e6 if sys.platform == "darwin" else rss / 1024


def spawn_worker(
    script: str,
    lib: str,
    case: str,
    sizes: Mapping[str, Any],
    timeout: float,
    environment: Callable[[Path], dict[str, str]],
    prefix: str = "bench",
    workdir: Path | None = None,
) -> dict[str, Any]:
    """Run ``script --worker lib --case case`` in a fresh folder and return its JSON result.

    ``environment(workdir)`` gives the child's environment variables. With
    ``workdir``, the child works there instead (and what it leaves stays), so
    later workers can reuse it.
    """
    with tempfile.TemporaryDirectory(prefix=f"{prefix}-{lib}-{case}-") as tmp:
        workdir = workdir or Path(tmp)
        result_file = workdir / f"result-{case}.json"
        result_file.unlink(missing_ok=True)
        command = [
            sys.executable,
            str(Path(script).resolve()),
            "--worker",
            lib,
            "--case",
            case,
            "--workdir",
            str(workdir),
            "--result-file",
            str(result_file),
            "--sizes",
            json.dumps(dict(sizes)),
        ]
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                command,
                cwd=workdir,
                env=environment(workdir),
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout:.0f} s"}
        wall = time.perf_counter() - start
        if proc.returncode != 0 or not result_file.exists():
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
            return {"error": f"exit code {proc.returncode}\n{tail}"}
        result: dict[str, Any] = json.loads(result_file.read_text())
        result["worker_wall_seconds"] = wall
        return result


def settle() -> None:
    """Write out dirty pages (data just generated, earlier workers' files), untimed.

    Without it, the kernel's write-back of earlier work lands inside whichever
    timing comes next, and figures that create files swing by several times.
    """
    if hasattr(os, "sync"):
        os.sync()


def seconds_text(value: float | None) -> str:
    """A duration for a table cell: ``1,234 s``, ``12.34 s`` or ``123 ms``."""
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f} s"
    if value >= 1:
        return f"{value:.2f} s"
    return f"{value * 1000:.3g} ms"


def worker_notes(results: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """A note per failed worker and per problem a worker reported."""
    notes = []
    for lib, cases in results.items():
        for case, result in cases.items():
            if "error" in result:
                notes.append(f"{lib} {case} failed: {result['error']}")
                continue
            notes += [f"{lib} {case}: {problem}" for problem in result.get("problems", [])]
    return notes


HEADER = ("Case", "mloop", "Peer", "Peer time", "mloop vs peer", "Goal", "Result")


def print_table(title: str, lines: Sequence[Sequence[str]], footer: Sequence[str]) -> None:
    """Print result lines (cells as in :data:`HEADER`) as a Rich table, or plain text."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(r[i]) for r in [HEADER, *lines]) for i in range(len(HEADER))]
        for line in [HEADER, tuple("-" * w for w in widths), *lines]:
            print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))
        print("\n".join(footer))
        return
    style = {"PASS": "[green]PASS[/]", "FAIL": "[bold red]FAIL[/]", "pending": "[yellow]pending[/]"}
    table = Table(title=title)
    for i, name in enumerate(HEADER):
        table.add_column(name, justify="left" if i in (0, 2) else "right")
    for line in lines:
        table.add_row(*line[:-1], style.get(line[-1], line[-1]))
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 140))
    console.print(table)
    for text in footer:
        console.print(text, markup=False, highlight=False)


def run_as_worker(
    args: Any, run_worker: Callable[[str, str, Path, Any], dict[str, Any]], sizes: Any
) -> int:
    """The ``--worker`` side of a script: run one case and write its JSON result."""
    if not args.case or len(args.case) != 1 or args.workdir is None or args.result_file is None:
        print("--worker needs exactly one --case, --workdir and --result-file", file=sys.stderr)
        return 2
    result = run_worker(args.worker, args.case[0], args.workdir, sizes)
    args.result_file.write_text(json.dumps(result))
    return 0


def add_worker_arguments(parser: argparse.ArgumentParser, libraries: Sequence[str]) -> None:
    """``--timeout`` and the internal options with which the parent starts a worker."""
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds allowed per worker process"
    )
    parser.add_argument("--worker", choices=list(libraries), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", help=argparse.SUPPRESS)


def result_lines(rows: Sequence[Any], ratio_text: Callable[[Any], str]) -> list[tuple[str, ...]]:
    """Table cells (as in :data:`HEADER`) of rows with label, mloop, peer_name, peer, goals."""
    return [
        (
            row.label,
            seconds_text(row.mloop),
            row.peer_name,
            seconds_text(row.peer),
            ratio_text(row),
            row.goal_text(),
            row.status(),
        )
        for row in rows
    ]


def write_results(
    path: Path,
    results: Mapping[str, Mapping[str, Any]],
    rows: Sequence[Any],
    notes: Sequence[str],
    meta: Mapping[str, Any],
) -> None:
    """Write every figure as JSON: the machine, versions, ``meta``, rows, notes, raw results.

    Rows are dataclasses with ``ratio()`` (a ratio, or ``(ratio, from_reference)``),
    ``goal_text()`` and ``status()``.
    """
    versions = {
        lib: next((r["version"] for r in cases.values() if "version" in r), None)
        for lib, cases in results.items()
    }
    table = []
    for row in rows:
        ratio = row.ratio()
        ratio, reference = ratio if isinstance(ratio, tuple) else (ratio, False)
        table.append(
            {
                **dataclasses.asdict(row),
                "ratio": ratio,
                "ratio_from_reference": reference,
                "goal": row.goal_text(),
                "status": row.status(),
            }
        )
    payload = {
        "meta": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "versions": versions,
            **meta,
        },
        "rows": table,
        "notes": list(notes),
        "results": results,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"Wrote {path}", file=sys.stderr)
