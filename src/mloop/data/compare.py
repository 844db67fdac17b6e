"""Differences between two dataset versions: files, and for tables rows, schema and statistics.

Example:
    >>> from mloop.entities import DatasetFile, DatasetVersion
    >>> a = DatasetVersion("d", 1, "a" * 64, 1, 1, 0, files=(DatasetFile("x", "1" * 64, 1),))
    >>> b = DatasetVersion("d", 2, "b" * 64, 1, 2, 0, files=(DatasetFile("y", "2" * 64, 2),))
    >>> diff_versions(a, b)["files"]
    {'added': ['y'], 'removed': ['x'], 'changed': [], 'unchanged': 0}
"""

from __future__ import annotations

from typing import Any

from mloop.entities import DatasetVersion

_STATISTICS = ("nulls", "distinct", "min", "max", "mean", "std")


def _columns(version: DatasetVersion) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in (version.profile or {}).get("columns", [])}


def _table_diff(a: DatasetVersion, b: DatasetVersion) -> dict[str, Any] | None:
    if a.profile is None or b.profile is None:
        return None
    before, after = _columns(a), _columns(b)
    changed_types = {
        name: [before[name]["type"], after[name]["type"]]
        for name in sorted(set(before) & set(after))
        if before[name]["type"] != after[name]["type"]
    }
    statistics = {}
    for name in sorted(set(before) & set(after)):
        moved = {
            stat: [before[name].get(stat), after[name].get(stat)]
            for stat in _STATISTICS
            if before[name].get(stat) != after[name].get(stat)
        }
        if moved:
            statistics[name] = moved
    return {
        "rows": [a.profile["rows"], b.profile["rows"]],
        "columns_added": sorted(set(after) - set(before)),
        "columns_removed": sorted(set(before) - set(after)),
        "types_changed": changed_types,
        "statistics": statistics,
    }


def diff_versions(a: DatasetVersion, b: DatasetVersion) -> dict[str, Any]:
    """Files added, removed and changed from ``a`` to ``b``; for tables, what moved."""
    before = {f.path: f.digest for f in a.files}
    after = {f.path: f.digest for f in b.files}
    common = set(before) & set(after)
    return {
        "from": a.ref,
        "to": b.ref,
        "files": {
            "added": sorted(set(after) - set(before)),
            "removed": sorted(set(before) - set(after)),
            "changed": sorted(p for p in common if before[p] != after[p]),
            "unchanged": sum(1 for p in common if before[p] == after[p]),
        },
        "table": _table_diff(a, b),
    }
