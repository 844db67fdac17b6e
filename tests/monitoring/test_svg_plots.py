"""The SVG plots of the HTML report: bar heights, labels, lines with gaps, escaping."""

from __future__ import annotations

import re

from mloop.monitoring.svg_plots import Line, bars, histogram, lines, percent, short

HEIGHT = re.compile(r'height="([0-9.]+)" class="(ref|cur)"')
WIDTH = re.compile(r'width="([0-9.]+)" height="7" class="(ref|cur)"')


def test_histogram_bars_are_as_tall_as_their_shares() -> None:
    svg = histogram([0.0, 5.0, 10.0, 15.0], [0.25, 0.5, 0.25], [0.0, 0.2, 0.8])
    heights = [(cls, float(h)) for h, cls in HEIGHT.findall(svg)]
    assert [cls for cls, _ in heights] == ["ref", "cur"] * 3
    tallest = heights[5][1]  # current's 0.8, the largest share
    assert tallest == max(h for _, h in heights) and heights[1][1] == 0.0
    assert abs(heights[2][1] - tallest * 0.5 / 0.8) < 0.1
    assert svg.count("<title>") == 3 and "[5, 10): reference 50%, current 20%" in svg
    assert ">0<" in svg and ">15<" in svg  # the first and last edge label the x axis


def test_histogram_of_all_zero_shares_draws_flat_bars() -> None:
    svg = histogram([0.0, 1.0], [0.0], [0.0])
    assert {h for h, _ in HEIGHT.findall(svg)} == {"0.0"}


def test_bars_are_as_long_as_their_shares_and_labels_are_clipped() -> None:
    long_name = "a category with a very long name"
    svg = bars([long_name, "b"], [0.6, 0.4], [0.3, 0.7])
    widths = [(cls, float(w)) for w, cls in WIDTH.findall(svg)]
    assert [cls for cls, _ in widths] == ["ref", "cur", "ref", "cur"]
    assert max(widths, key=lambda item: item[1]) == widths[3]  # current's 70% of "b"
    assert abs(widths[0][1] / widths[3][1] - 0.6 / 0.7) < 0.01
    assert ">a category with…<" in svg and f"<title>{long_name}: reference 60%" in svg


def test_text_in_plots_is_escaped() -> None:
    svg = bars(["<script>x</script>", "a&b"], [0.5, 0.5], [0.5, 0.5])
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a&amp;b" in svg
    line = lines(['"><b>', "b"], [Line("<i>", [0.1, 0.2])])
    assert "<b>" not in line and "<i>" not in line and "&lt;i&gt;" in line


def test_lines_break_where_a_value_is_missing() -> None:
    statistic = Line("psi", [0.1, 0.2, None, 0.4, 0.5])
    share = Line("share", [0.0, 0.2, 0.4, 0.6, 0.8], right=True, markers=False)
    svg = lines(["a", "b", "c", "d", "e"], [statistic, share], limit=0.3)
    assert svg.count('class="line-0"/>') == 2 and svg.count('class="line-1"/>') == 1
    assert svg.count("<circle") == 4 and "d: psi 0.4</title>" in svg
    assert 'class="limit"><title>threshold 0.3</title>' in svg
    assert ">100%<" in svg  # the right axis of shares


def test_a_share_of_one_reaches_the_top_of_the_right_axis() -> None:
    svg = lines(["a", "b"], [Line("share", [0.0, 1.0], right=True)])
    (points,) = re.findall(r'<polyline points="([^"]+)"', svg)
    (_, y0), (_, y1) = (map(float, p.split(",")) for p in points.split())
    assert y1 == 12.0 and y0 > y1  # the top margin
    assert ">100%<" in svg and ">1<" not in svg  # no left axis without a left-hand line


def test_one_point_and_many_points() -> None:
    single = lines(["only"], [Line("psi", [0.2])])
    assert single.count("<circle") == 1 and ">only<" in single
    many = lines([str(i) for i in range(100)], [Line("psi", [i / 100 for i in range(100)])])
    assert "<circle" not in many and many.count("<polyline") == 1
    assert ">0<" in many and ">49<" in many and ">99<" in many


def test_numbers_on_axes_are_short() -> None:
    assert [short(v) for v in (0.0, 1.0, 0.12345, 123456.7, 1.2e-7, float("inf"))] == [
        "0",
        "1",
        "0.1235",
        "1.235e+05",
        "1.2e-07",
        "inf",
    ]
    assert [percent(v) for v in (0.0, 0.005, 0.5, 1.0)] == ["0%", "0.5%", "50%", "100%"]
