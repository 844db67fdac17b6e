"""When a monitor runs and how much data it reads: intervals (``15m``) and cron expressions.

A schedule is an interval — one or more counts of ``s``, ``m``, ``h``, ``d``
or ``w`` (``30s``, ``15m``, ``1h30m``, ``1d``) — or a five-field cron
expression (minute, hour, day of month, month, day of week: ``0 3 * * 1``),
or one of cron's shorthands (``@hourly``, ``@daily``, ``@weekly``,
``@monthly``, ``@yearly``). A monitor's window is an interval. The text is
what gets stored; these functions check it before it is, and say what is
wrong. A cron expression is checked for its form and the range of each
field; when it next fires is the scheduler's to work out.

Example:
    >>> parse_interval("1h30m")
    datetime.timedelta(seconds=5400)
    >>> parse_schedule("15m").interval
    datetime.timedelta(seconds=900)
    >>> parse_schedule("@daily").cron
    '0 0 * * *'
    >>> parse_schedule("0 25 * * *")
    Traceback (most recent call last):
    ...
    mloop.errors.InvalidInput: schedule '0 25 * * *': hour 25 is out of range 0-23; ...
"""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

from mloop.errors import InvalidInput

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_INTERVAL = re.compile(r"^(?:\d+[smhdw])+$")
_PART = re.compile(r"(\d+)([smhdw])")
_SHORTHANDS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclasses.dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    first_name: int = 0  # the number the first name stands for


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day of month", 1, 31),
    _Field("month", 1, 12, _MONTHS, 1),
    _Field("day of week", 0, 7, _DAYS, 0),  # 0 and 7 are both Sunday
)
_EXAMPLE = "e.g. '15m', '1h', '1d', or a cron expression such as '0 3 * * 1'"


@dataclasses.dataclass(frozen=True)
class Schedule:
    """A checked schedule: exactly one of ``interval`` and ``cron`` is set.

    ``text`` is what was given (and what a store keeps); ``cron`` is the
    five-field expression, with a shorthand spelled out.

    Example:
        >>> parse_schedule("0 */6 * * *")
        Schedule(text='0 */6 * * *', interval=None, cron='0 */6 * * *')
    """

    text: str
    interval: timedelta | None = None
    cron: str | None = None


def parse_interval(text: object, what: str = "interval") -> timedelta:
    """An interval such as ``30s``, ``15m``, ``1h30m``, ``1d`` or ``2w``, as a timedelta.

    Args:
        text: the interval.
        what: what the interval is, for the message (``"window"``).

    Raises:
        InvalidInput: not counts with units, or zero long.

    Example:
        >>> parse_interval("2w") == timedelta(days=14)
        True
    """
    if not isinstance(text, str) or not _INTERVAL.match(text.strip()):
        raise InvalidInput(
            f"{what} {text!r} is not an interval: write counts of s, m, h, d or w, "
            "e.g. '30s', '15m', '1h30m', '1d'"
        )
    seconds = sum(int(count) * _UNITS[unit] for count, unit in _PART.findall(text.strip()))
    if seconds == 0:
        raise InvalidInput(f"{what} {text!r} is zero long; give a positive interval")
    return timedelta(seconds=seconds)


def parse_schedule(text: object) -> Schedule:
    """Check a schedule: an interval, a five-field cron expression, or a cron shorthand.

    Raises:
        InvalidInput: neither an interval nor a well-formed cron expression; says
            which field is wrong and why.

    Example:
        >>> parse_schedule("1d").interval == timedelta(days=1)
        True
        >>> parse_schedule("30 2 * JAN-MAR mon-fri").cron
        '30 2 * JAN-MAR mon-fri'
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"schedule must be a non-empty string ({_EXAMPLE}), got {text!r}")
    stripped = text.strip()
    if _INTERVAL.match(stripped):
        return Schedule(text, interval=parse_interval(stripped, "schedule"))
    if stripped.startswith("@"):
        cron = _SHORTHANDS.get(stripped.lower())
        if cron is None:
            raise InvalidInput(
                f"schedule {text!r} is no cron shorthand; use one of {', '.join(_SHORTHANDS)}"
            )
        return Schedule(text, cron=cron)
    fields = stripped.split()
    if len(fields) != len(_FIELDS):
        raise InvalidInput(
            f"schedule {text!r} is neither an interval nor a cron expression of five fields "
            f"(minute hour day-of-month month day-of-week); {_EXAMPLE}"
        )
    for field, value in zip(_FIELDS, fields, strict=True):
        for item in value.split(","):
            _check_item(text, field, item)
    return Schedule(text, cron=" ".join(fields))


def _check_item(text: str, field: _Field, item: str) -> None:
    head, slash, step = item.partition("/")
    if slash and not (step.isdigit() and int(step) > 0):
        raise InvalidInput(f"schedule {text!r}: {field.name} step {step!r} must be a number > 0")
    if head == "*":
        return
    bounds = head.split("-")
    if len(bounds) > 2 or not all(bounds):
        raise InvalidInput(
            f"schedule {text!r}: {field.name} {item!r} is not a number, a range a-b, "
            "a list a,b, '*' or a step '*/n'"
        )
    numbers = [_number(text, field, bound) for bound in bounds]
    if len(numbers) == 2 and numbers[0] > numbers[1]:
        raise InvalidInput(f"schedule {text!r}: {field.name} range {head!r} runs backwards")


def _number(text: str, field: _Field, bound: str) -> int:
    upper = bound.upper()
    if upper in field.names:
        return field.names.index(upper) + field.first_name
    if not bound.isdigit():
        named = f" or a name ({', '.join(field.names)})" if field.names else ""
        raise InvalidInput(f"schedule {text!r}: {field.name} {bound!r} is not a number{named}")
    number = int(bound)
    if not field.low <= number <= field.high:
        raise InvalidInput(
            f"schedule {text!r}: {field.name} {number} is out of range {field.low}-{field.high}; "
            f"{_EXAMPLE}"
        )
    return number
