"""Small plots as inline SVG text: two distributions side by side, and lines over time.

The HTML report (:mod:`mloop.monitoring.html_report`) embeds these, so a
report opens offline: no plotting library, no image files, no scripts. Every
piece of text that reaches the SVG (labels, category values) is escaped here.
Shapes carry CSS classes and no colours, for the page's style sheet to paint
them: ``ref`` and ``cur`` (the two sides' bars), ``line-0`` and ``line-1``
(lines on the left and on the right axis), ``axis``, ``limit`` (a threshold).

Example:
    >>> svg = bars(["a", "b"], [0.5, 0.5], [0.9, 0.1])
    >>> svg.startswith("<svg") and svg.count('class="cur"') == 2
    True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 380
"""The width of every plot, in SVG units (it scales to the page)."""

_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 48, 12, 34
_HEIGHT = 190
_ROW = 18  # height of one category in a bar chart
_LABEL = 16  # characters of a category or an axis label kept; the rest is in its tooltip
_MARKERS = 60  # up to this many points of a line get a marker with a tooltip


@dataclass(frozen=True)
class Line:
    """One line of :func:`lines`: its name, its values (``None`` leaves a gap), its axis.

    Attributes:
        name: what the line shows, for tooltips.
        values: one value per point, ``None`` where there is none.
        right: drawn against the right-hand axis (shares, 0 to 100%), not the left.
        markers: a dot with a tooltip on each point (up to 60 points).
    """

    name: str
    values: Sequence[float | None]
    right: bool = False
    markers: bool = True


def short(value: float) -> str:
    """A number in few characters, for axes and tooltips.

    Example:
        >>> short(0.000012345), short(12.3456), short(1234567.0), short(0.0)
        ('1.23e-05', '12.35', '1.23e+06', '0')
    """
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    if abs(value) >= 1e6 or abs(value) < 1e-3:
        return f"{value:.3g}"
    return f"{value:.4g}"


def percent(share: float) -> str:
    """A share as a percentage with at most three significant digits.

    Example:
        >>> percent(0.125), percent(1 / 3), percent(0.0)
        ('12.5%', '33.3%', '0%')
    """
    return f"{share * 100:.3g}%"


def _clip(text: str) -> str:
    return text if len(text) <= _LABEL else text[: _LABEL - 1] + "…"


def _svg(height: float, body: list[str], label: str) -> str:
    return (
        f'<svg viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" height="{height:.0f}" '
        f'role="img" aria-label="{escape(label)}">' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "middle", cls: str = "tick") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="{cls}">'
        f"{escape(_clip(text))}</text>"
    )


def _top(values: Sequence[float]) -> tuple[float, float]:
    """The top of an axis, a little above the largest value, and that value (1 when none is)."""
    largest = max((v for v in values if math.isfinite(v)), default=0.0)
    return (largest * 1.08, largest) if largest > 0 else (1.0, 1.0)


def histogram(edges: Sequence[float], reference: Sequence[float], current: Sequence[float]) -> str:
    """Two histograms over the same bins: each bin a reference bar and a current bar.

    Args:
        edges: the ``k + 1`` bin edges, increasing.
        reference: the reference's share in each of the ``k`` bins.
        current: the current table's share in each bin.

    Example:
        >>> svg = histogram([0.0, 1.0, 2.0], [0.5, 0.5], [0.2, 0.8])
        >>> svg.count('class="ref"'), "[1, 2): reference 50%, current 80%" in svg
        (2, True)
    """
    bins = len(reference)
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM
    top, peak = _top([*reference, *current])
    width = plot_w / bins
    body = _axes(_HEIGHT, top, peak, text=percent)
    for index in range(bins):
        x = _LEFT + index * width
        tip = (
            f"[{short(edges[index])}, {short(edges[index + 1])}): "
            f"reference {percent(reference[index])}, current {percent(current[index])}"
        )
        body.append(f"<g><title>{escape(tip)}</title>")
        for offset, share, cls in ((0.1, reference[index], "ref"), (0.5, current[index], "cur")):
            height = plot_h * share / top
            body.append(
                f'<rect x="{x + width * offset:.1f}" y="{_TOP + plot_h - height:.1f}" '
                f'width="{width * 0.4:.1f}" height="{height:.1f}" class="{cls}"/>'
            )
        body.append("</g>")
    ticks = sorted({0, bins // 2, bins})
    for index in ticks:
        body.append(_text(_LEFT + index * width, _HEIGHT - _BOTTOM + 14, short(edges[index])))
    return _svg(_HEIGHT, body, "distribution of the reference and the current values")


def bars(categories: Sequence[str], reference: Sequence[float], current: Sequence[float]) -> str:
    """The shares of categories as horizontal bars, reference above current in each row.

    Example:
        >>> svg = bars(["<b>", "b"], [0.5, 0.5], [0.9, 0.1])
        >>> "&lt;b&gt;" in svg and "<b>" not in svg
        True
    """
    plot_w = WIDTH - 2 * _LEFT - 40
    left = 2 * _LEFT + 10
    top, peak = _top([*reference, *current])
    height = _TOP + len(categories) * _ROW + 22
    body = [
        f'<line x1="{left}" y1="{_TOP}" x2="{left}" y2="{height - 22}" class="axis"/>',
    ]
    for index, name in enumerate(categories):
        y = _TOP + index * _ROW
        tip = f"{name}: reference {percent(reference[index])}, current {percent(current[index])}"
        body.append(f"<g><title>{escape(tip)}</title>")
        body.append(_text(left - 4, y + _ROW * 0.65, name, anchor="end", cls="label"))
        for offset, share, cls in ((2, reference[index], "ref"), (9, current[index], "cur")):
            body.append(
                f'<rect x="{left}" y="{y + offset}" width="{plot_w * share / top:.1f}" '
                f'height="7" class="{cls}"/>'
            )
        body.append("</g>")
    for share in (0.0, peak):
        body.append(_text(left + plot_w * share / top, height - 8, percent(share)))
    return _svg(height, body, "shares of the categories in the reference and the current values")


def _axes(
    height: float,
    top: float,
    peak: float,
    *,
    left: bool = True,
    right: bool = False,
    text: Callable[[float], str] = short,
) -> list[str]:
    """The axes of a plot: x; the left one from 0 to ``top``, ``peak`` marked; the right 0-100%."""
    bottom = height - _BOTTOM
    peak_y = bottom - (bottom - _TOP) * peak / top
    body = [
        f'<line x1="{_LEFT}" y1="{bottom}" x2="{WIDTH - _RIGHT}" y2="{bottom}" class="axis"/>',
    ]
    if left:
        body += [
            f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{bottom}" class="axis"/>',
            _text(_LEFT - 4, bottom + 4, text(0.0), anchor="end"),
            _text(_LEFT - 4, peak_y + 4, text(peak), anchor="end"),
        ]
    if right:
        body += [
            f'<line x1="{WIDTH - _RIGHT}" y1="{_TOP}" x2="{WIDTH - _RIGHT}" y2="{bottom}" '
            'class="axis"/>',
            _text(WIDTH - _RIGHT + 4, bottom + 4, "0%", anchor="start"),
            _text(WIDTH - _RIGHT + 4, _TOP + 8, "100%", anchor="start"),
        ]
    return body


def lines(labels: Sequence[str], series: Sequence[Line], *, limit: float | None = None) -> str:
    """Lines over evenly spaced points (times or labels), on a left and a right axis.

    The left axis runs from 0 to a little above the largest left-hand value
    (and ``limit``, drawn dashed); the right one from 0 to 100%.

    Example:
        >>> psi, share = Line("psi", [0.1, None, 0.3]), Line("share", [0, 0.5, 1], right=True)
        >>> svg = lines(["mon", "tue", "wed"], [psi, share], limit=0.2)
        >>> svg.count("<polyline"), 'class="limit"' in svg
        (3, True)
    """
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM
    left_values = [v for line in series if not line.right for v in line.values if v is not None]
    top, peak = _top([*left_values, *([limit] if limit is not None else [])])
    step = plot_w / max(len(labels) - 1, 1)
    body = _axes(
        _HEIGHT,
        top,
        peak,
        left=any(not line.right for line in series),
        right=any(line.right for line in series),
    )
    if limit is not None:
        y = _TOP + plot_h - plot_h * limit / top
        body.append(
            f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{WIDTH - _RIGHT}" y2="{y:.1f}" class="limit">'
            f"<title>threshold {escape(short(limit))}</title></line>"
        )
    for line in series:
        scale = 1.0 if line.right else top
        points = [
            None if v is None else (_LEFT + i * step, _TOP + plot_h - plot_h * v / scale)
            for i, v in enumerate(line.values)
        ]
        cls = "line-1" if line.right else "line-0"
        body += _polylines(points, cls)
        if line.markers and len(points) <= _MARKERS:
            body += _markers(points, labels, line, cls)
    last = len(labels) - 1
    for index in sorted({0, last // 2, last}):
        anchor = "start" if index == 0 else "end" if index == last else "middle"
        body.append(_text(_LEFT + index * step, _HEIGHT - _BOTTOM + 14, labels[index], anchor))
    return _svg(_HEIGHT, body, "drift over time")


def _polylines(points: Sequence[tuple[float, float] | None], cls: str) -> list[str]:
    """One polyline per unbroken run of points; a ``None`` breaks the line."""
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            runs.append([])
        else:
            runs[-1].append(point)
    return [
        f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in run)}" class="{cls}"/>'
        for run in runs
        if run
    ]


def _markers(
    points: Sequence[tuple[float, float] | None], labels: Sequence[str], line: Line, cls: str
) -> list[str]:
    shown = [
        (point, label, value)
        for point, label, value in zip(points, labels, line.values, strict=True)
        if point is not None and value is not None
    ]
    return [
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" class="{cls}"><title>'
        f"{escape(label)}: {escape(line.name)} "
        f"{percent(value) if line.right else short(value)}</title></circle>"
        for (x, y), label, value in shown
    ]
