r"""A drift report as one self-contained HTML page, to open offline or attach to a ticket.

:func:`render_html` turns a :class:`~mloop.monitoring.table_drift.DriftReport`
into a page with a header of facts (which data, which window, which model),
a summary and verdict, a sortable table of the columns, and per column a
plot of the reference's and the current distribution, and of its drift over
time when a ``history`` of earlier checks is given. Other checks add their
own tables as :class:`Section`\ s.

The page needs nothing but itself: styles are inline, plots are SVG drawn
here (:mod:`mloop.monitoring.svg_plots`), and the one small script (sorting
the tables) is pinned by its hash in the page's Content-Security-Policy, which
also forbids loading anything from elsewhere. The style sheet and the script
are package data, ``templates/report.css`` and ``templates/sort.js``. Every
text given (title, facts, column names, category values, section cells) is
escaped.

The distributions come from ``ColumnDrift.details["histogram"]``, either
``{"kind": "numerical", "edges": [e0, ..., ek], "reference": [k shares],
"current": [k shares]}`` (equal-width bins over both sides' range) or
``{"kind": "categorical", "categories": [...], "reference": [shares],
"current": [shares]}`` (the most frequent categories, an ``"(other)"`` bucket
last when there are more). A column without one says so in place of its plot.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import itertools
import math
import numbers
import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from importlib import resources
from types import MappingProxyType
from typing import Any

from mloop.errors import InvalidInput
from mloop.monitoring import svg_plots as plots
from mloop.monitoring.table_drift import TESTS, ColumnDrift, DriftReport

_NO_FACTS: Mapping[str, object] = MappingProxyType({})
_LISTED = 5  # new or vanished categories named in the table; the rest are counted
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class HistoryPoint:
    """One earlier check of the same table, for the "drift over time" plots.

    Attributes:
        label: when (a date or time) or which window the check was.
        drift_share: the share of columns that drifted then, in [0, 1].
        statistics: each column's statistic then (``None`` when it had none);
            keyed by column name as the report has it (or its text).

    Example:
        >>> HistoryPoint("2026-11-30", 0.25, {"age": 0.08}).statistics["age"]
        0.08
    """

    label: str | dt.date
    drift_share: float
    statistics: Mapping[Hashable, float | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.label, str | dt.date) or not str(self.label).strip():
            raise InvalidInput(
                f"a history point's label must be text or a date, got {self.label!r}"
            )
        share = self.drift_share
        if not _finite(share) or not 0 <= share <= 1:
            raise InvalidInput(
                f"drift_share of history point {str(self.label)!r} must be in [0, 1], got {share!r}"
            )
        if not isinstance(self.statistics, Mapping):
            raise InvalidInput(
                f"statistics of history point {str(self.label)!r} must map columns to numbers"
            )
        for column, value in self.statistics.items():
            if value is not None and not _finite(value):
                raise InvalidInput(
                    f"the statistic of column {column!r} at {str(self.label)!r} must be a finite "
                    f"number or None, got {value!r}"
                )

    @classmethod
    def of(cls, report: DriftReport, label: str | dt.date) -> HistoryPoint:
        """The point a report makes, to keep for the next report's history.

        Example:
            >>> from mloop.monitoring.table_drift import ColumnDrift, DriftReport
            >>> column = ColumnDrift("age", "numerical", "psi", 0.3, None, 0.1, True)
            >>> HistoryPoint.of(DriftReport((column,), 1.0, 0.5, True), "week 48").statistics
            {'age': 0.3}
        """
        statistics = {column.column: column.statistic for column in report.columns}
        return cls(label, report.drift_share, statistics)

    @property
    def text(self) -> str:
        """The label as shown on the plots."""
        if isinstance(self.label, dt.datetime):
            return self.label.strftime("%Y-%m-%d %H:%M")
        return str(self.label)

    def statistic(self, column: Hashable) -> float | None:
        """The statistic of ``column`` at this point (looked up by name, then by its text)."""
        value = self.statistics.get(column)
        return self.statistics.get(str(column)) if value is None else value


@dataclass(frozen=True)
class Section:
    """An extra titled table in the report, from another check (data quality, performance).

    Cells may be text, numbers (formatted readably, sorted as numbers), booleans
    (yes/no), dates or ``None`` (shown as a dash).

    Example:
        >>> Section("Data quality", ["column", "missing"], [["age", 0.02]]).headers
        ('column', 'missing')
    """

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]

    def __post_init__(self) -> None:
        if not isinstance(self.title, str) or not self.title.strip():
            raise InvalidInput(f"a section needs a title, got {self.title!r}")
        if isinstance(self.headers, str) or not all(isinstance(h, str) for h in self.headers):
            raise InvalidInput(f"the headers of section {self.title!r} must be a list of texts")
        if isinstance(self.rows, str) or any(isinstance(row, str) for row in self.rows):
            raise InvalidInput(f"the rows of section {self.title!r} must be lists of cells")
        object.__setattr__(self, "headers", tuple(self.headers))
        object.__setattr__(self, "rows", tuple(tuple(row) for row in self.rows))
        if not self.headers:
            raise InvalidInput(f"section {self.title!r} has no headers")
        for number, row in enumerate(self.rows, 1):
            if len(row) != len(self.headers):
                raise InvalidInput(
                    f"row {number} of section {self.title!r} has {len(row)} cell(s) "
                    f"for {len(self.headers)} header(s)"
                )


def render_html(
    report: DriftReport,
    *,
    title: str,
    facts: Mapping[str, object] = _NO_FACTS,
    history: Sequence[HistoryPoint] = (),
    sections: Sequence[Section] = (),
) -> str:
    """The report as one HTML page that opens offline.

    Args:
        report: the drift of a table, as :func:`~mloop.monitoring.drift` returns it.
        title: the page's title and heading.
        facts: what the reader should know first, in order: reference, current,
            window, model version, generated at...
        history: earlier checks of the same table, oldest first; with at least
            one point, each column gets a "drift over time" plot of its
            statistic and of the table's drift share.
        sections: extra tables, after the columns.

    Raises:
        InvalidInput: before anything is drawn: not a report, an empty title,
            facts that are not a mapping of texts, history or sections of the
            wrong type, a column's histogram that breaks its contract.

    Example:
        >>> from mloop.monitoring.table_drift import ColumnDrift, DriftReport
        >>> histogram = {"kind": "categorical", "categories": ["a", "b"],
        ...              "reference": [0.5, 0.5], "current": [0.9, 0.1]}
        >>> column = ColumnDrift("plan", "categorical", "z", 8.9, 0.0001, 0.05, True,
        ...                      details={"histogram": histogram})
        >>> page = render_html(DriftReport((column,), 1.0, 0.5, True), title="Weekly drift",
        ...                    facts={"reference": "credit@train"})
        >>> page.startswith("<!DOCTYPE html>"), page.count("<svg")
        (True, 1)
    """
    _check(report, title, facts, history, sections)
    parts = [
        _head(title),
        _header(title, facts),
        _summary(report, history),
        _columns_table(report),
        '<section id="plots"><h2>Columns one by one</h2>'
        '<p class="legend"><span class="key ref"></span>reference '
        '<span class="key cur"></span>current'
        + (
            ' <span class="key line-0"></span>statistic '
            '<span class="key line-1"></span>drift share of the table'
            if history
            else ""
        )
        + "</p>",
        *(_column_block(index, column, history) for index, column in enumerate(report.columns)),
        "</section>",
        *(_section(index, section) for index, section in enumerate(sections)),
        f"</main><script>{_asset('sort.js')}</script></body></html>\n",
    ]
    return "".join(parts)


def _check(report: Any, title: Any, facts: Any, history: Any, sections: Any) -> None:
    if not isinstance(report, DriftReport):
        raise InvalidInput(f"render_html needs a DriftReport, got {type(report).__name__}")
    if not isinstance(title, str) or not title.strip():
        raise InvalidInput(f"the report needs a title, got {title!r}")
    if not isinstance(facts, Mapping) or not all(isinstance(k, str) for k in facts):
        raise InvalidInput("facts must map texts (reference, current, ...) to values")
    for name, given, kind in (("history", history, HistoryPoint), ("sections", sections, Section)):
        if isinstance(given, str | Mapping) or not all(isinstance(v, kind) for v in given):
            raise InvalidInput(f"{name} must be a list of {kind.__name__}s")
    for column in report.columns:
        _check_histogram(column)


def _finite(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value)


def _check_histogram(column: ColumnDrift) -> None:
    """Raise unless the column's histogram, when it has one, keeps the contract."""
    histogram = column.details.get("histogram")
    if histogram is None:
        return
    where = f"the histogram of column {column.column!r}"
    if not isinstance(histogram, Mapping) or histogram.get("kind") not in (
        "numerical",
        "categorical",
    ):
        raise InvalidInput(f"{where} must be a mapping of kind 'numerical' or 'categorical'")
    ref, cur = (_shares(where, histogram.get(side), side) for side in ("reference", "current"))
    if len(ref) != len(cur):
        raise InvalidInput(f"{where} has {len(ref)} reference and {len(cur)} current shares")
    if histogram["kind"] == "numerical":
        edges = histogram.get("edges")
        if (
            not isinstance(edges, Sequence)
            or len(edges) != len(ref) + 1
            or not all(_finite(edge) for edge in edges)
            or any(low > high for low, high in itertools.pairwise(edges))
        ):
            raise InvalidInput(f"{where} needs {len(ref) + 1} increasing finite edges")
    else:
        categories = histogram.get("categories")
        if isinstance(categories, str) or not isinstance(categories, Sequence):
            raise InvalidInput(f"{where} needs a list of categories")
        if len(categories) != len(ref):
            raise InvalidInput(f"{where} has {len(categories)} categories for {len(ref)} shares")


def _shares(where: str, shares: object, side: str) -> Sequence[Any]:
    if isinstance(shares, str) or not isinstance(shares, Sequence) or not shares:
        raise InvalidInput(f"{where} needs a non-empty list of {side} shares")
    if not all(_finite(share) and share >= 0 for share in shares):
        raise InvalidInput(f"{where} has {side} shares that are not numbers >= 0: {shares!r}")
    return shares


def _clean(value: object) -> str:
    """Text of a value, control characters replaced, escaped for HTML."""
    return escape(_CONTROL.sub("\ufffd", str(value)))


def number(value: float | None) -> str:
    """A statistic, p-value or threshold, readably: few digits, exponents when tiny or huge.

    Example:
        >>> number(0.39812), number(9.3412e-36), number(None), number(12345678.0)
        ('0.3981', '9.34e-36', '—', '1.23e+07')
    """
    if value is None:
        return "—"
    if math.isnan(value):
        return "NaN"
    return plots.short(value)


def _cell(value: object) -> str:
    """A ``<td>`` for a section's value: numbers carry their raw value to sort by."""
    if value is None:
        return "<td>—</td>"
    if isinstance(value, bool):
        return f"<td>{'yes' if value else 'no'}</td>"
    if isinstance(value, numbers.Integral):
        return f'<td class="num" data-v="{int(value)}">{int(value):,}</td>'
    if isinstance(value, numbers.Real):
        return _numeric(float(value))
    return f"<td>{_fact(value)}</td>"


def _fact(value: object) -> str:
    if isinstance(value, dt.datetime):
        return _clean(value.isoformat(sep=" ", timespec="seconds"))
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        return number(float(value))
    return _clean(value)


def _head(title: str) -> str:
    policy = "default-src 'none'; style-src 'unsafe-inline'; script-src "
    policy += f"'{_script_hash()}'"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_clean(title)}</title><style>{_asset('report.css')}</style></head><body><main>"
    )


def _header(title: str, facts: Mapping[str, object]) -> str:
    rows = "".join(f"<dt>{_clean(k)}</dt><dd>{_fact(v)}</dd>" for k, v in facts.items())
    return f"<header><h1>{_clean(title)}</h1>" + (f"<dl>{rows}</dl>" if rows else "") + "</header>"


def _summary(report: DriftReport, history: Sequence[HistoryPoint]) -> str:
    drifted = [(i, c) for i, c in enumerate(report.columns) if c.drifted]
    unmeasured = sum(c.statistic is None for c in report.columns)
    verdict = "drifted" if report.dataset_drifted else "has not drifted"
    parts = [
        '<section id="summary"><h2>Summary</h2>',
        f'<p class="verdict {"yes" if report.dataset_drifted else "no"}">The table {verdict}</p>',
        f"<p>{len(drifted)} of {len(report.columns)} column(s) drifted "
        f"({plots.percent(report.drift_share)}); the table drifts when "
        f"{plots.percent(report.share)} or more do.",
    ]
    if unmeasured:
        parts.append(f" {unmeasured} column(s) could not be compared (no values on a side).")
    parts.append("</p>")
    if drifted:
        links = ", ".join(f'<a href="#col-{i}">{_clean(c.column)}</a>' for i, c in drifted)
        parts.append(f'<p class="drifted">Drifted: {links}</p>')
    if history:
        points = [*history]
        share = plots.Line("drift share", [p.drift_share for p in points], right=True)
        parts.append(
            "<figure><figcaption>Drift share of the table over time</figcaption>"
            + plots.lines([p.text for p in points], [share])
            + "</figure>"
        )
    parts.append("</section>")
    return "".join(parts)


_HEADERS = (
    "column",
    "kind",
    "method",
    "statistic",
    "p-value",
    "threshold",
    "drifted",
    "missing (ref.)",
    "missing (cur.)",
    "new categories",
    "vanished categories",
)


def _headers(headers: Sequence[str]) -> str:
    cells = "".join(f'<th><button type="button">{_clean(h)}</button></th>' for h in headers)
    return f"<thead><tr>{cells}</tr></thead>"


def _columns_table(report: DriftReport) -> str:
    rows = "".join(_column_row(index, column) for index, column in enumerate(report.columns))
    return (
        '<section id="columns"><h2>Columns</h2><div class="scroll"><table class="sortable">'
        f"{_headers(_HEADERS)}<tbody>{rows}</tbody></table></div></section>"
    )


def _numeric(value: float | None, text: str | None = None) -> str:
    if value is None:
        return '<td class="num">—</td>'
    return f'<td class="num" data-v="{float(value)!r}">{text or number(value)}</td>'


def _categories(values: Any) -> str:
    if not values:
        return '<td class="num" data-v="0">—</td>'
    names = [*values]
    listed = ", ".join(_clean(name) for name in names[:_LISTED])
    more = f" +{len(names) - _LISTED} more" if len(names) > _LISTED else ""
    return f'<td data-v="{len(names)}">{len(names)}: {listed}{more}</td>'


def _column_row(index: int, column: ColumnDrift) -> str:
    drifted = '<td class="yes">yes</td>' if column.drifted else '<td class="no">no</td>'
    return (
        f'<tr><td><a href="#col-{index}">{_clean(column.column)}</a></td>'
        f"<td>{_clean(column.kind)}</td><td>{_clean(column.method)}</td>"
        + _numeric(column.statistic)
        + _numeric(column.p_value)
        + _numeric(column.threshold)
        + drifted
        + _numeric(column.reference_missing, plots.percent(column.reference_missing))
        + _numeric(column.current_missing, plots.percent(column.current_missing))
        + _categories(column.details.get("new_categories"))
        + _categories(column.details.get("vanished_categories"))
        + "</tr>"
    )


def _column_block(index: int, column: ColumnDrift, history: Sequence[HistoryPoint]) -> str:
    badge = '<span class="badge yes">drifted</span>' if column.drifted else ""
    measured = f"statistic {number(column.statistic)}"
    if column.p_value is not None:
        measured += f", p-value {number(column.p_value)}"
    parts = [
        f'<details id="col-{index}"{" open" if column.drifted else ""}><summary>'
        f'<span class="name">{_clean(column.column)}</span> {badge}'
        f'<span class="meta">{_clean(column.kind)} · {_clean(column.method)} · {measured} · '
        f"threshold {number(column.threshold)}</span></summary>",
    ]
    if column.note:
        parts.append(f'<p class="note">{_clean(column.note)}</p>')
    parts.append(
        f'<div class="plots"><figure><figcaption>Distribution</figcaption>{_distribution(column)}'
        "</figure>"
    )
    if history:
        statistic = plots.Line(column.method, [p.statistic(column.column) for p in history])
        # The table's share is the same line under every column: its tooltips are in the summary.
        share = plots.Line("drift share", [p.drift_share for p in history], True, markers=False)
        limit = None if column.method in TESTS else column.threshold
        svg = plots.lines([p.text for p in history], [statistic, share], limit=limit)
        parts.append(f"<figure><figcaption>Drift over time</figcaption>{svg}</figure>")
    parts.append("</div></details>")
    return "".join(parts)


def _distribution(column: ColumnDrift) -> str:
    histogram = column.details.get("histogram")
    if histogram is None:
        return '<p class="empty">No distribution was recorded for this column.</p>'
    shares = [float(v) for v in histogram["reference"]], [float(v) for v in histogram["current"]]
    if histogram["kind"] == "numerical":
        return plots.histogram([float(e) for e in histogram["edges"]], *shares)
    return plots.bars([str(c) for c in histogram["categories"]], *shares)


def _section(index: int, section: Section) -> str:
    rows = "".join(
        "<tr>" + "".join(_cell(value) for value in row) + "</tr>" for row in section.rows
    )
    if not rows:
        rows = f'<tr><td colspan="{len(section.headers)}">No rows.</td></tr>'
    return (
        f'<section id="section-{index}"><h2>{_clean(section.title)}</h2><div class="scroll">'
        f'<table class="sortable">{_headers(section.headers)}<tbody>{rows}</tbody></table>'
        "</div></section>"
    )


@functools.cache
def _asset(name: str) -> str:
    """A file of the page's style or script, shipped in ``templates/`` beside this module."""
    return resources.files(__package__).joinpath("templates").joinpath(name).read_text("utf-8")


@functools.cache
def _script_hash() -> str:
    digest = hashlib.sha256(_asset("sort.js").encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")
