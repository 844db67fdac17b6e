"""``mloop data``: version files and folders, list, show, fetch and tag dataset versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mloop.cli.context import creates_store, use_store
from mloop.cli.output import handle_errors, millis_text, print_json, progress_bar, say, table
from mloop.entities import DatasetVersion
from mloop.errors import EXIT_CHECK_FAILED, InvalidInput

# The domain package (mloop.data) is imported inside each command, not here: it
# loads SQLAlchemy, fsspec and pyarrow, which `mloop data --help` need not.

app = typer.Typer(help="Datasets: versioned files and folders.", no_args_is_help=True)


def _row(v: DatasetVersion) -> tuple[object, ...]:
    return (
        v.ref,
        v.file_count,
        v.total_bytes,
        ", ".join(v.tags) or "-",
        millis_text(v.created_time),
        v.digest[:12],
    )


_HEADERS = ["version", "files", "bytes", "tags", "created", "digest"]


@app.command("add")
@handle_errors
@creates_store
def add(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="A file or folder."),
    name: str = typer.Option(..., "--name", "-n", help="Dataset name."),
    tag: list[str] | None = typer.Option(None, "--tag", "-t", help="Tag the version (repeatable)."),
    description: str = typer.Option("", "--description", "-d", help="What this version is."),
    pseudonymize: str | None = typer.Option(
        None, "--pseudonymize", help="Comma-separated columns to store as keyed hashes."
    ),
    mask: bool = typer.Option(False, "--mask", help="Store those columns as *** instead."),
    follow_links: bool = typer.Option(
        False, "--follow-links", help="Follow symbolic links that point out of the folder."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Version a file or folder; unchanged content gives back the existing version."""
    from mloop.data import api

    use_store(ctx)
    columns = [c.strip() for c in pseudonymize.split(",") if c.strip()] if pseudonymize else None
    if mask and not columns:
        raise typer.BadParameter("--mask needs --pseudonymize COLUMNS")
    with progress_bar(f"adding {path}") as progress:
        version = api.add(
            path,
            name,
            tags=tag,
            description=description,
            pseudonymize=columns,
            mask=mask,
            follow_links=follow_links,
            progress=progress,
        )
    if as_json:
        print_json(version.info)
    else:
        say(f"{version.ref}  {len(version.files)} file(s)  {version.digest[:12]}")


@app.command("ls")
@handle_errors
def list_datasets(
    ctx: typer.Context,
    name: str | None = typer.Argument(None, help="List this dataset's versions."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List datasets (their latest versions), or every version of one."""
    from mloop.data import api

    use_store(ctx)
    found = api.versions(name) if name else api.datasets()
    if as_json:
        print_json(found)
    else:
        table("Versions" if name else "Datasets", _HEADERS, [_row(v) for v in found])


@app.command("show")
@handle_errors
def show(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="name, name@latest, name@3 or name@tag."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a version and its files."""
    from mloop.data import api

    use_store(ctx)
    version = api.get(ref).info
    if as_json:
        print_json(version)
        return
    table(f"Dataset {version.ref}", [*_HEADERS, "run"], [(*_row(version), version.run_id or "-")])
    table("Files", ["path", "bytes", "digest"], [(f.path, f.size, f.digest) for f in version.files])
    checks = api.validations(version.ref)
    if checks:
        table(
            "Validations",
            ["suite", "result", "when", "run"],
            [
                (
                    c["suite"],
                    "passed" if c["success"] else "FAILED",
                    millis_text(c["created_time"]),
                    c["run_id"] or "-",
                )
                for c in checks
            ],
        )


@app.command("get")
@handle_errors
def get(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="name, name@latest, name@3 or name@tag."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to copy the files into."),
) -> None:
    """Copy a version's files into a folder (verified against their digests)."""
    from mloop.data import api

    use_store(ctx)
    dataset = api.get(ref)
    dataset.copy_to(out)
    say(f"{dataset.ref}: {len(dataset.files)} file(s) written to {out}")


@app.command("tag")
@handle_errors
def tag(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="The version to tag."),
    tag_name: str = typer.Argument(..., help="The tag; it moves if it pointed elsewhere."),
) -> None:
    """Point a tag at a version."""
    from mloop.data import api

    use_store(ctx)
    version = api.tag(ref, tag_name)
    say(f"{version.name}@{tag_name} -> {version.ref}")


@app.command("profile")
@handle_errors
def profile(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="name, name@latest, name@3 or name@tag."),
    html_file: Path | None = typer.Option(
        None, "--html", help="Also write a self-contained HTML report with charts."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a version's schema and column statistics (tabular data only)."""
    from mloop.data import api

    use_store(ctx)
    dataset = api.get(ref)
    stats = dataset.profile
    if stats is None:
        raise InvalidInput(
            f"{dataset.ref} has no profile: it holds no readable Parquet, CSV, TSV "
            "or JSON-lines file"
        )
    if html_file is not None:
        from mloop.data.report import render_profile_html

        html_file.write_text(render_profile_html(dataset.ref, stats))
    if as_json:
        print_json(stats)
        return
    table(
        f"{dataset.ref}: {stats['rows']:,} rows",
        ["column", "type", "nullable", "nulls", "distinct", "min", "max", "mean", "std", "top"],
        [
            (
                c["name"],
                c["type"],
                "yes" if c["nullable"] else "no",
                c["nulls"],
                c["distinct"],
                c.get("min"),
                c.get("max"),
                c.get("mean"),
                c.get("std"),
                ", ".join(f"{t['value']} ({t['count']})" for t in c.get("top", [])) or None,
            )
            for c in stats["columns"]
        ],
    )


@app.command("validate")
@handle_errors
def validate(
    ctx: typer.Context,
    ref: str = typer.Argument(
        ..., help="name, name@latest, name@3 or name@tag; or a CSV, Parquet or JSON lines file."
    ),
    suite: Path = typer.Option(..., "--suite", "-s", help="Expectation suite (YAML)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check a version (or a file, before it is versioned) against a suite; exits 1 on failure."""
    from mloop.data import api

    use_store(ctx)
    result = api.validate(ref, suite)
    if as_json:
        print_json(result)
    else:
        table(
            f"{result.data_ref}: suite {result.suite!r} {'passed' if result.success else 'FAILED'}",
            ["check", "ok", "observed", "unexpected", "examples"],
            [
                (
                    r.expectation,
                    "yes" if r.success else "NO",
                    r.message or r.observed,
                    r.unexpected_count,
                    ", ".join(map(str, r.examples[:5])) or None,
                )
                for r in result.results
            ],
        )
    if not result.success:
        raise typer.Exit(EXIT_CHECK_FAILED)


@app.command("diff")
@handle_errors
def diff(
    ctx: typer.Context,
    a: str = typer.Argument(..., help="The older version, e.g. credit@1."),
    b: str = typer.Argument(..., help="The newer version, e.g. credit@2."),
    show_all: bool = typer.Option(
        False, "--all", help="Every file and every statistic that changed, not the summary."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (everything)."),
) -> None:
    """What changed: a summary first (files, rows, columns, types); --all for every detail."""
    from mloop.data import api

    use_store(ctx)
    changes = api.diff(a, b)
    if as_json:
        print_json(changes)
        return
    files, tab = changes["files"], changes["table"]
    say(f"{changes['from']} -> {changes['to']}: {_diff_summary(files, tab)}")
    if not show_all:
        stats = sum(len(s) for s in tab["statistics"].values()) if tab else 0
        if files["added"] or files["removed"] or files["changed"] or stats:
            say("(mloop data diff --all lists every file and statistic that changed)")
        return
    rows = [(f"+ {p}",) for p in files["added"]] + [(f"- {p}",) for p in files["removed"]]
    rows += [(f"~ {p}",) for p in files["changed"]]
    table(f"Files ({files['unchanged']} unchanged)", ["file"], rows)
    if tab:
        facts = [("rows", f"{tab['rows'][0]:,} -> {tab['rows'][1]:,}")]
        facts += [("column added", c) for c in tab["columns_added"]]
        facts += [("column removed", c) for c in tab["columns_removed"]]
        facts += [(f"type of {c}", " -> ".join(t)) for c, t in tab["types_changed"].items()]
        facts += [
            (f"{stat} of {c}", f"{v[0]} -> {v[1]}")
            for c, stats in tab["statistics"].items()
            for stat, v in stats.items()
        ]
        table("Table", ["what", "change"], facts)


def _diff_summary(files: dict[str, Any], tab: dict[str, Any] | None) -> str:
    """One line: what changed, most telling first (``nothing changed`` when so)."""
    parts = []
    counts = [(len(files[k]), k) for k in ("added", "removed", "changed")]
    if any(n for n, _ in counts):
        parts.append(", ".join(f"{n} file(s) {k}" for n, k in counts if n))
    if tab:
        before, after = tab["rows"]
        if before != after:
            parts.append(f"rows {before:,} -> {after:,} ({after - before:+,})")
        if tab["columns_added"]:
            parts.append("columns added: " + ", ".join(tab["columns_added"]))
        if tab["columns_removed"]:
            parts.append("columns removed: " + ", ".join(tab["columns_removed"]))
        if tab["types_changed"]:
            parts.append("types changed: " + ", ".join(tab["types_changed"]))
        moved = sorted(c for c, s in tab["statistics"].items() if s)
        if moved:
            parts.append(f"statistics moved in {len(moved)} column(s): " + ", ".join(moved[:5]))
    return "; ".join(parts) or "nothing changed"


@app.command("lineage")
@handle_errors
def lineage(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="name, name@latest, name@3 or name@tag."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The run that produced a version and the runs that consumed it."""
    from mloop.data import api

    use_store(ctx)
    found = api.lineage(ref)
    if as_json:
        print_json(found)
        return
    rows = [("produced by", found["produced_by"] or "-", "")]
    rows += [("consumed by", c["run_id"], c["context"]) for c in found["consumed_by"]]
    table(f"Lineage of {found['version']}", ["relation", "run", "context"], rows)


@app.command("rm")
@handle_errors
def remove(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="The version to remove, e.g. credit@3 or credit@old."),
) -> None:
    """Remove a version (numbers are never reused; `mloop gc` reclaims its storage)."""
    from mloop.data import api

    use_store(ctx)
    version = api.remove(ref)
    say(f"removed {version.ref}")
