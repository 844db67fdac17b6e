"""Schedules and windows: intervals, cron expressions and shorthands, and every way to get one wrong."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mloop.errors import InvalidInput
from mloop.monitoring.schedule import Schedule, parse_interval, parse_schedule


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("1h", 3600), ("1h30m", 5400), ("1d", 86_400), ("2w", 1_209_600)],
)
def test_intervals(text: str, seconds: int) -> None:
    assert parse_interval(text) == timedelta(seconds=seconds)
    assert parse_schedule(text) == Schedule(text, interval=timedelta(seconds=seconds))


@pytest.mark.parametrize("text", ["", "1", "h", "1.5h", "1y", "-1h", "1 h", 15, None])
def test_a_bad_interval_says_how_to_write_one(text: object) -> None:
    with pytest.raises(InvalidInput, match=r"window .* is not an interval: .*'15m'"):
        parse_interval(text, "window")


def test_a_zero_interval_is_refused() -> None:
    with pytest.raises(InvalidInput, match="zero long"):
        parse_interval("0m")
    with pytest.raises(InvalidInput, match="zero long"):
        parse_schedule("0h0m")


@pytest.mark.parametrize(
    "text",
    [
        "* * * * *",
        "0 3 * * 1",
        "*/15 * * * *",
        "0 0-6/2 1,15 * *",
        "30 2 * JAN-MAR mon-fri",
        "0 12 31 12 7",
        "5,10,15-20 * * * sun",
    ],
)
def test_cron_expressions(text: str) -> None:
    assert parse_schedule(text) == Schedule(text, cron=text)


def test_cron_shorthands_are_spelled_out_and_extra_blanks_dropped() -> None:
    assert parse_schedule("@hourly").cron == "0 * * * *"
    assert parse_schedule("@WEEKLY").cron == "0 0 * * 0"
    assert parse_schedule("  0   3 * * 1 ").cron == "0 3 * * 1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "non-empty string"),
        (None, "non-empty string"),
        ("@sometimes", "no cron shorthand"),
        ("0 3 * *", "five fields"),
        ("0 3 * * * *", "five fields"),
        ("60 * * * *", "minute 60 is out of range 0-59"),
        ("0 24 * * *", "hour 24 is out of range 0-23"),
        ("0 0 0 * *", "day of month 0 is out of range 1-31"),
        ("0 0 * 13 *", "month 13 is out of range 1-12"),
        ("0 0 * * 8", "day of week 8 is out of range 0-7"),
        ("*/0 * * * *", "minute step '0' must be a number > 0"),
        ("*/x * * * *", "minute step 'x'"),
        ("0 5-1 * * *", "hour range '5-1' runs backwards"),
        ("0 1-2-3 * * *", "hour '1-2-3' is not a number, a range"),
        ("0 1, * * *", "hour '' is not a number, a range"),
        ("0 0 * FOO *", r"month 'FOO' is not a number or a name \(JAN"),
        ("x * * * *", "minute 'x' is not a number$"),
    ],
)
def test_a_bad_schedule_names_what_is_wrong(text: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_schedule(text)
