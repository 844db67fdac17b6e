"""A self-contained HTML report of a profile: one page, inline SVG charts, no scripts.

Example:
    >>> page = render_profile_html("d@1", {"rows": 2, "columns": [
    ...     {"name": "x", "type": "integer", "nullable": False, "count": 2, "nulls": 0,
    ...      "distinct": 2, "min": 1.0, "max": 2.0, "mean": 1.5, "std": 0.7,
    ...      "histogram": {"edges": [1.0, 1.5, 2.0], "counts": [1, 1]}}]})
    >>> page.startswith("<!doctype html>") and "<svg" in page
    True
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#1d2430}
h1{font-size:1.4rem} h2{font-size:1.1rem;margin:1.6rem 0 .4rem}
table{border-collapse:collapse} td,th{padding:.2rem .7rem;border-bottom:1px solid #e3e6ea;
text-align:left} .col{display:flex;gap:2rem;align-items:flex-start;flex-wrap:wrap}
.muted{color:#6b7480}
"""


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return html.escape(str(value))


def _bars(values: Sequence[float], labels: Sequence[str], width: int = 320) -> str:
    """An SVG bar chart; each bar has a tooltip with its label and value."""
    height, gap = 120, 2
    top = max(values) if values and max(values) > 0 else 1
    bar = max(2, (width - gap * len(values)) // max(1, len(values)))
    parts = [f'<svg width="{width}" height="{height}" role="img" aria-label="distribution">']
    for index, (value, label) in enumerate(zip(values, labels, strict=True)):
        h = round((height - 4) * value / top)
        x = index * (bar + gap)
        title = html.escape(f"{label}: {value:g}")
        parts.append(
            f'<rect x="{x}" y="{height - h}" width="{bar}" height="{h}" fill="#3b6fd8">'
            f"<title>{title}</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _chart(column: Mapping[str, Any]) -> str:
    if "histogram" in column:
        edges, counts = column["histogram"]["edges"], column["histogram"]["counts"]
        labels = [f"{edges[i]:.4g} to {edges[i + 1]:.4g}" for i in range(len(counts))]
        return _bars([float(c) for c in counts], labels)
    if column.get("top"):
        top = column["top"]
        return _bars([float(t["count"]) for t in top], [str(t["value"]) for t in top])
    return '<p class="muted">no chart for this type</p>'


def _facts(column: Mapping[str, Any]) -> str:
    keys = ("type", "nullable", "count", "nulls", "distinct", "min", "max", "mean", "std")
    rows = [(k, column[k]) for k in keys if k in column]
    rows += [(k, v) for k, v in column.get("quantiles", {}).items()]
    rows += [(f"top: {t['value']}", t["count"]) for t in column.get("top", [])]
    cells = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{_number(v)}</td></tr>" for k, v in rows
    )
    return f"<table>{cells}</table>"


def render_profile_html(ref: str, profile: Mapping[str, Any]) -> str:
    """The whole page for a version's profile; every value is escaped."""
    sections = [
        f"<h2>{html.escape(str(c['name']))}</h2><div class='col'>{_facts(c)}{_chart(c)}</div>"
        for c in profile.get("columns", [])
    ]
    title = html.escape(f"Profile of {ref}")
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{title}</h1>"
        f"<p class='muted'>{profile.get('rows', 0):,} rows, "
        f"{len(profile.get('columns', []))} columns</p>{''.join(sections)}</body></html>"
    )
