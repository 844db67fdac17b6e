"""What an import brought and what was there already, counted as it goes.

Example:
    >>> s = ImportSummary(source="mlruns")
    >>> s.runs.brought += 2
    >>> s.runs.already += 1
    >>> s.to_dict()["runs"]
    {'brought': 2, 'already': 1}
"""

from __future__ import annotations

import dataclasses
from typing import Any

KINDS = (
    "experiments",
    "runs",
    "metric_points",
    "artifact_files",
    "artifact_bytes",
    "models",
    "versions",
    "aliases",
)
"""The counted things, in the order the summary shows them."""


def byte_size(count: int) -> str:
    """A number of bytes for people: decimal units, the exact count beside large ones.

    Example:
        >>> byte_size(0), byte_size(512), byte_size(40400490)
        ('0 bytes', '512 bytes', '40.4 MB (40400490 bytes)')
    """
    if count < 1000:
        return f"{count} bytes"
    value, unit = float(count) / 1000, "kB"
    for bigger in ("MB", "GB", "TB"):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    return f"{value:.1f} {unit} ({count} bytes)"


@dataclasses.dataclass
class Count:
    """How many of one kind of thing were brought, and how many were there already."""

    brought: int = 0
    already: int = 0


@dataclasses.dataclass
class ImportSummary:
    """The counts of one import, what was left behind and why, and what to know of what came.

    ``skipped`` maps a reason (``"deleted experiment"``, ``"unfinished run
    (RUNNING)"``…), a fixed phrase, to the names or ids left out for it;
    ``details`` holds what is particular to one of them (the error, the missing
    folder). ``notes`` maps a fixed phrase to the things brought that it is
    about (a param shown masked, a model changed in MLflow since it came).
    ``dry_run`` says nothing was written.
    """

    source: str
    dry_run: bool = False
    experiments: Count = dataclasses.field(default_factory=Count)
    runs: Count = dataclasses.field(default_factory=Count)
    metric_points: Count = dataclasses.field(default_factory=Count)
    artifact_files: Count = dataclasses.field(default_factory=Count)
    artifact_bytes: Count = dataclasses.field(default_factory=Count)
    models: Count = dataclasses.field(default_factory=Count)
    versions: Count = dataclasses.field(default_factory=Count)
    aliases: Count = dataclasses.field(default_factory=Count)
    skipped: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    details: dict[tuple[str, str], str] = dataclasses.field(default_factory=dict)
    notes: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    def skip(self, reason: str, what: str, detail: str = "") -> None:
        """Record that ``what`` was left out for ``reason`` (``detail``: its particulars)."""
        self.skipped.setdefault(reason, []).append(what)
        if detail:
            self.details[(reason, what)] = detail

    def note(self, about: str, what: str) -> None:
        """Record something to know about ``what``, which was brought (or was there)."""
        self.notes.setdefault(about, []).append(what)

    def count(self, kind: str) -> Count:
        """The count of one of :data:`KINDS`."""
        found: Count = getattr(self, kind)
        return found

    def to_dict(self) -> dict[str, Any]:
        """Plain values, for ``--json``: a fixed set of keys, per-item text only in values.

        ``skipped`` is a list of ``{"reason", "item", "detail"}``, ``notes`` a
        list of ``{"note", "item"}``.
        """
        counts: dict[str, Any] = {k: dataclasses.asdict(self.count(k)) for k in KINDS}
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            **counts,
            "skipped": [
                {"reason": reason, "item": item, "detail": self.details.get((reason, item), "")}
                for reason, items in sorted(self.skipped.items())
                for item in items
            ],
            "notes": [
                {"note": about, "item": item}
                for about, items in sorted(self.notes.items())
                for item in items
            ],
        }


class ImportStopped(KeyboardInterrupt):
    """An import stopped by Ctrl-C (or SIGTERM): what it had brought by then is in ``summary``.

    Every run and version counted as brought is whole in the store; the next
    import brings the rest. A :class:`KeyboardInterrupt`, so code that stops on
    one stops on this too.
    """

    def __init__(self, summary: ImportSummary) -> None:
        super().__init__("the import was stopped")
        self.summary = summary

    def brought(self) -> str:
        """What was brought before the stop, in words.

        Example:
            >>> s = ImportSummary(source="mlruns")
            >>> s.runs.brought, s.versions.brought = 3, 1
            >>> ImportStopped(s).brought()
            '0 experiments, 3 runs, 0 models, 1 versions, 0 aliases'
        """
        kinds = ("experiments", "runs", "models", "versions", "aliases")
        return ", ".join(f"{self.summary.count(k).brought} {k}" for k in kinds)
