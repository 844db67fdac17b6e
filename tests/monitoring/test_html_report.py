"""The HTML drift report: its parts, escaping, offline-ness, history, sections, size, bad input."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import time
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mloop.monitoring
from mloop.errors import InvalidInput
from mloop.monitoring.html_report import HistoryPoint, Section, number, render_html
from mloop.monitoring.table_drift import ColumnDrift, DriftReport, drift

VOID = {"meta", "br", "hr", "img", "input", "link"}
EVIL = "<script>alert(1)</script>"


class Page(HTMLParser):
    """A parsed page: elements must close in order; keeps what the tests look at."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[tuple[tuple[str, ...], str]] = []  # (open tags, text)
        self.svgs_in: dict[str, int] = {}  # details id -> number of plots
        self.scripts: list[str] = []
        self.feed(text)
        self.close()
        assert not self.stack, f"unclosed: {[tag for tag, _ in self.stack]}"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "svg":
            for open_tag, open_attrs in self.stack:
                if open_tag == "details":
                    key = open_attrs["id"] or ""
                    self.svgs_in[key] = self.svgs_in.get(key, 0) + 1
        if tag not in VOID:
            self.stack.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1][0] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1][0] == "script":
            self.scripts.append(data)
        if data.strip():
            self.texts.append((tuple(tag for tag, _ in self.stack), data))

    def text_in(self, tag: str) -> list[str]:
        return [text for tags, text in self.texts if tag in tags]

    def all_text(self) -> str:
        return " ".join(text for _, text in self.texts)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [
            found
            for name, found in self.tags
            if name == tag and all(found.get(k) == v for k, v in attrs.items())
        ]


def numerical(name: Any = "age", drifted: bool = True, **details: Any) -> ColumnDrift:
    histogram = {
        "kind": "numerical",
        "edges": [0.0, 10.0, 20.0, 30.0],
        "reference": [0.2, 0.5, 0.3],
        "current": [0.1, 0.3, 0.6],
    }
    return ColumnDrift(
        name, "numerical", "wasserstein", 0.31, None, 0.1, drifted, 0.0, 0.05,
        {"histogram": histogram, **details},
    )  # fmt: skip


def categorical(name: Any = "plan", categories: list[Any] | None = None) -> ColumnDrift:
    names = categories or ["basic", "pro", "(other)"]
    histogram = {
        "kind": "categorical",
        "categories": names,
        "reference": [1 / len(names)] * len(names),
        "current": [1 / len(names)] * len(names),
    }
    details = {"histogram": histogram, "new_categories": ["gold"], "vanished_categories": []}
    return ColumnDrift(name, "categorical", "chi2", 2.1, 0.35, 0.05, False, 0.1, 0.0, details)


def unmeasured(name: Any = "notes") -> ColumnDrift:
    note = "current has no values (all missing): nothing to compare"
    return ColumnDrift(name, "categorical", "chi2", None, None, 0.05, False, 0.0, 1.0, {}, note)


def report(*columns: ColumnDrift, share: float = 0.5) -> DriftReport:
    columns = columns or (numerical(), categorical(), unmeasured())
    drifted = sum(c.drifted for c in columns) / len(columns)
    return DriftReport(tuple(columns), drifted, share, drifted >= share)


def history(count: int = 4, columns: tuple[str, ...] = ("age", "plan")) -> list[HistoryPoint]:
    return [
        HistoryPoint(f"week {week}", week / (count + 1), dict.fromkeys(columns, 0.05 * week))
        for week in range(1, count + 1)
    ]


def test_the_page_has_a_header_a_summary_a_table_and_a_plot_per_column() -> None:
    facts = {"reference": "credit@train", "current": "credit@latest", "model version": "3"}
    page = Page(render_html(report(), title="Weekly drift", facts=facts))
    assert page.text_in("head")[0] == "Weekly drift" and page.text_in("h1") == ["Weekly drift"]
    assert page.text_in("dt") == ["reference", "current", "model version"]
    assert page.text_in("dd") == ["credit@train", "credit@latest", "3"]
    summary = page.all_text()
    assert "The table has not drifted" in summary
    assert "1 of 3 column(s) drifted (33.3%); the table drifts when 50% or more do." in summary
    assert "1 column(s) could not be compared" in summary
    headers = page.text_in("th")
    assert headers[:7] == [
        "column",
        "kind",
        "method",
        "statistic",
        "p-value",
        "threshold",
        "drifted",
    ]
    assert "new categories" in headers and "vanished categories" in headers
    cells = page.text_in("td")
    assert cells[:9] == ["age", "numerical", "wasserstein", "0.31", "—", "0.1", "yes", "0%", "5%"]
    assert "1: gold" in cells
    # a plot per column with a histogram; the third says it has none
    assert page.svgs_in == {"col-0": 1, "col-1": 1}
    assert "No distribution was recorded for this column." in page.text_in("details")
    assert "current has no values (all missing): nothing to compare" in page.text_in("details")
    # drifted columns start open, the others folded
    assert "open" in page.find("details", id="col-0")[0]
    assert "open" not in page.find("details", id="col-1")[0]
    assert "Drift over time" not in summary


def test_the_distributions_are_drawn_from_the_histograms() -> None:
    page = render_html(report(), title="t")
    age = page[page.index('id="col-0"') : page.index('id="col-1"')]
    plan = page[page.index('id="col-1"') : page.index('id="col-2"')]
    assert age.count('class="ref"') == 3 and age.count('class="cur"') == 3
    assert "[10, 20): reference 50%, current 30%" in age
    assert plan.count('class="ref"') == 3 and "(other): reference 33.3%, current 33.3%" in plan


def test_history_adds_drift_over_time_plots_and_only_then() -> None:
    points = [*history(3), HistoryPoint(dt.datetime(2026, 12, 6, 4, 30), 0.5, {"plan": 0.4})]
    page = Page(render_html(report(), title="t", history=points))
    assert page.svgs_in == {"col-0": 2, "col-1": 2, "col-2": 1}
    assert "Drift share of the table over time" in page.text_in("figcaption")
    assert page.text_in("figcaption").count("Drift over time") == 3
    text = render_html(report(), title="t", history=points)
    # age has no statistic at the last point: its line breaks there
    age = text[text.index('id="col-0"') : text.index('id="col-1"')]
    assert "week 2: wasserstein 0.1</title>" in age and "2026-12-06 04:30" in age
    assert age.count('class="line-0"/>') == 1 and age.count("<circle") == 3
    assert 'class="limit"' in age  # a distance's threshold is drawn; a p-value's is not
    plan = text[text.index('id="col-1"') : text.index('id="col-2"')]
    assert 'class="limit"' not in plan and "2026-12-06 04:30: chi2 0.4</title>" in plan
    without = render_html(report(), title="t")
    assert "Drift over time" not in without and "<polyline" not in without


def test_history_statistics_may_name_columns_by_their_text() -> None:
    columns = (numerical(0), numerical(1, drifted=False))
    points = [HistoryPoint("mon", 0.0, {"0": 0.2, 1: 0.3})]
    text = render_html(report(*columns), title="t", history=points)
    assert "mon: wasserstein 0.2</title>" in text and "mon: wasserstein 0.3</title>" in text


def test_a_history_point_is_made_from_a_report() -> None:
    assert HistoryPoint("mon", np.float64(0.5), {"a": np.float32(0.25)}).statistic("a") == 0.25
    point = HistoryPoint.of(report(), dt.date(2026, 12, 6))
    assert point.text == "2026-12-06" and point.drift_share == pytest.approx(1 / 3)
    assert point.statistics == {"age": 0.31, "plan": 2.1, "notes": None}


def test_user_text_is_escaped_everywhere() -> None:
    evil_category = "<img src=x onerror=alert(2)>"
    columns = (numerical(EVIL), categorical("plan", [evil_category, "b"]), unmeasured(EVIL + "2"))
    sections = [Section(EVIL, [EVIL], [[EVIL], [None]])]
    points = [HistoryPoint(EVIL, 0.5, {EVIL: 0.2})]
    text = render_html(
        report(*columns), title=EVIL, facts={EVIL: EVIL}, history=points, sections=sections
    )
    page = Page(text)
    assert len(page.find("script")) == 1 and not page.find("img")
    assert page.scripts and "alert" not in "".join(page.scripts)
    assert page.text_in("h1") == [EVIL] and page.text_in("dt") == [EVIL]
    assert EVIL in page.text_in("a") and evil_category in page.all_text()
    assert EVIL in page.text_in("h2") and EVIL in page.text_in("summary")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "&lt;img src=x" in text


def test_control_characters_do_not_reach_the_page() -> None:
    text = render_html(report(numerical("a\x00b\x1b[2J")), title="t\x07")
    assert "\x00" not in text and "\x1b" not in text and "\x07" not in text
    assert "a\ufffdb\ufffd[2J" in text


def test_nothing_is_loaded_from_elsewhere() -> None:
    text = render_html(
        report(), title="t", history=history(), sections=[Section("s", ["a"], [[1]])]
    )
    assert "http://" not in text and "https://" not in text
    page = Page(text)
    assert not [attrs for _, attrs in page.tags if "src" in attrs]
    assert all((attrs["href"] or "").startswith("#") for _, attrs in page.tags if "href" in attrs)
    assert not page.find("link") and not page.find("iframe") and not page.find("img")
    assert "@import" not in text and "url(" not in text


def test_the_only_script_is_the_one_the_policy_allows() -> None:
    page = Page(render_html(report(), title="t"))
    policy = page.find("meta", **{"http-equiv": "Content-Security-Policy"})[0]["content"] or ""
    assert "default-src 'none'" in policy
    (script,) = page.scripts
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy


def test_table_cells_carry_the_numbers_they_sort_by() -> None:
    text = render_html(report(), title="t")
    assert '<td class="num" data-v="0.31">0.31</td>' in text
    assert '<td class="num" data-v="0.35">0.35</td>' in text
    assert 'data-v="0.05">5%</td>' in text  # current's missing share
    assert '<th><button type="button">statistic</button></th>' in text


def test_sections_are_rendered_as_sortable_tables() -> None:
    quality = Section(
        "Data quality",
        ["column", "missing", "rows", "ok", "since"],
        [
            ["age", 0.000012, 1_234_567, True, dt.date(2026, 12, 1)],
            ["plan", np.float64(0.25), np.int64(7), False, None],
        ],
    )
    empty = Section("Performance", ("metric", "value"), [])
    page = Page(render_html(report(), title="t", sections=[quality, empty]))
    assert page.text_in("h2")[-2:] == ["Data quality", "Performance"]
    cells = page.text_in("td")
    assert cells[-11:-6] == ["age", "1.2e-05", "1,234,567", "yes", "2026-12-01"]
    assert cells[-6:] == ["plan", "0.25", "7", "no", "—", "No rows."]
    text = render_html(report(), title="t", sections=[quality])
    assert '<td class="num" data-v="1234567">1,234,567</td>' in text
    assert '<td class="num" data-v="0.25">0.25</td>' in text
    assert len(page.find("table", **{"class": "sortable"})) == 3


def test_numbers_are_readable() -> None:
    assert [number(v) for v in (0.398123, 9.34e-36, 1e-3, 0.0, 123456.0, 1.5e7, -0.25)] == [
        "0.3981",
        "9.34e-36",
        "0.001",
        "0",
        "1.235e+05",
        "1.5e+07",
        "-0.25",
    ]
    assert number(None) == "—" and number(float("nan")) == "NaN"


def test_a_report_from_drift_renders() -> None:
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"age": rng.normal(40, 10, 300), "plan": ["a", "b", "c"] * 100})
    current = pd.DataFrame({"age": rng.normal(50, 10, 300), "plan": ["a", "b", "d"] * 100})
    page = Page(render_html(drift(reference, current), title="drift"))
    assert page.text_in("a") == ["age", "plan", "age", "plan"]
    assert "1: d" in page.text_in("td") and "1: c" in page.text_in("td")


def test_three_hundred_columns_render_fast_and_small() -> None:
    columns = tuple(
        numerical(f"n{i}", drifted=i % 3 == 0) if i % 2 else categorical(f"c{i}", list("abcdefghi"))
        for i in range(300)
    )
    names = tuple(str(c.column) for c in columns)
    points = [HistoryPoint(f"day {d}", d / 30, dict.fromkeys(names, d / 100)) for d in range(30)]
    started = time.perf_counter()
    text = render_html(report(*columns), title="wide", history=points)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0
    assert len(text.encode()) < 4_000_000
    page = Page(text)
    assert len(page.svgs_in) == 300 and set(page.svgs_in.values()) == {2}


def test_render_html_is_exported_lazily() -> None:
    assert mloop.monitoring.render_html is render_html
    assert mloop.monitoring.HistoryPoint is HistoryPoint and mloop.monitoring.Section is Section


def broken(histogram: Any) -> DriftReport:
    return report(ColumnDrift("x", "numerical", "psi", 0.2, None, 0.1, True, details={"histogram": histogram}))  # fmt: skip


NUMERICAL = {"kind": "numerical", "edges": [0, 1, 2], "reference": [0.5, 0.5], "current": [1, 0]}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: render_html({"columns": []}, title="t"), "needs a DriftReport, got dict"),  # type: ignore[arg-type]
        (lambda: render_html(report(), title="  "), "needs a title"),
        (lambda: render_html(report(), title="t", facts=["a"]), "facts must map"),  # type: ignore[arg-type]
        (lambda: render_html(report(), title="t", facts={1: "a"}), "facts must map"),  # type: ignore[dict-item]
        (lambda: render_html(report(), title="t", history=[0.5]), "HistoryPoints"),  # type: ignore[list-item]
        (lambda: render_html(report(), title="t", sections="abc"), "Sections"),  # type: ignore[arg-type]
        (lambda: render_html(broken([1, 2]), title="t"), "of kind 'numerical' or 'categorical'"),
        (lambda: render_html(broken({**NUMERICAL, "kind": "text"}), title="t"), "of kind"),
        (
            lambda: render_html(broken({**NUMERICAL, "current": [1]}), title="t"),
            "2 reference and 1 current",
        ),
        (
            lambda: render_html(broken({**NUMERICAL, "reference": []}), title="t"),
            "non-empty list of reference",
        ),
        (
            lambda: render_html(broken({**NUMERICAL, "current": [-1, 2]}), title="t"),
            "not numbers >= 0",
        ),
        (
            lambda: render_html(broken({**NUMERICAL, "current": [float("nan"), 1]}), title="t"),
            "not numbers",
        ),
        (
            lambda: render_html(broken({**NUMERICAL, "edges": [0, 2, 1]}), title="t"),
            "3 increasing finite edges",
        ),
        (lambda: render_html(broken({**NUMERICAL, "edges": [0, 1]}), title="t"), "3 increasing"),
        (
            lambda: render_html(
                broken({**NUMERICAL, "kind": "categorical", "categories": "ab"}), title="t"
            ),
            "a list of categories",
        ),
        (
            lambda: render_html(
                broken({**NUMERICAL, "kind": "categorical", "categories": ["a"]}), title="t"
            ),
            "1 categories for 2 shares",
        ),
        (lambda: HistoryPoint("mon", 1.5), "must be in [0, 1], got 1.5"),
        (lambda: HistoryPoint("mon", True), "must be in [0, 1]"),
        (lambda: HistoryPoint("mon", float("nan")), "must be in [0, 1], got nan"),
        (lambda: HistoryPoint("", 0.5), "label must be text or a date"),
        (lambda: HistoryPoint(3, 0.5), "label must be text or a date"),  # type: ignore[arg-type]
        (
            lambda: HistoryPoint("mon", 0.5, {"age": float("inf")}),
            "statistic of column 'age' at 'mon'",
        ),
        (lambda: HistoryPoint("mon", 0.5, [0.1]), "must map columns to numbers"),  # type: ignore[arg-type]
        (lambda: Section("", ["a"], []), "needs a title"),
        (lambda: Section("s", "ab", []), "headers of section 's' must be a list of texts"),
        (lambda: Section("s", [], []), "section 's' has no headers"),
        (lambda: Section("s", ["a"], ["x"]), "the rows of section 's' must be lists of cells"),
        (
            lambda: Section("s", ["a", "b"], [["x", 1], ["y"]]),
            "row 2 of section 's' has 1 cell(s) for 2 header(s)",
        ),
    ],
)
def test_bad_input_is_a_clear_error(call: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)):
        call()
