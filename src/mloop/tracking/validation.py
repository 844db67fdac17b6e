"""Checks on names and values, run before anything is written.

Limits follow MLflow's so that code moving over keeps working.

Example:
    >>> validate_key("train/loss", "metric")
    'train/loss'
    >>> metric_value("loss", "high")
    Traceback (most recent call last):
    ...
    mloop.errors.InvalidInput: metric 'loss' must be a number, got 'high' (str)
"""

from __future__ import annotations

import math
import numbers
import re

from mloop.errors import InvalidInput
from mloop.store.names import check_storable

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_STEP = 2**63 - 1
MAX_TIMESTAMP = 253_402_300_799_999
"""The last millisecond of the year 9999: later timestamps are mistakes (often nanoseconds)."""

_KEY = re.compile(r"^[\w\-. /:]+$")
_valid_keys: set[str] = set()


def validate_key(key: object, kind: str) -> str:
    """Check a metric, param or tag name: 1 to 250 characters of letters, digits, ``_-. /:``.

    Raises:
        InvalidInput: the key is not a string, empty, too long, or has other characters.
    """
    if key in _valid_keys:
        return key
    if not isinstance(key, str):
        raise InvalidInput(f"{kind} name must be a string, got {key!r} ({type(key).__name__})")
    if not key:
        raise InvalidInput(f"{kind} name must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(
            f"{kind} name {key[:40]!r}… is {len(key)} characters; the limit is {MAX_KEY_LENGTH}"
        )
    if not _KEY.match(key):
        raise InvalidInput(
            f"invalid {kind} name {key!r}: use letters, digits, underscores, dashes, "
            "periods, spaces, slashes and colons"
        )
    if key.startswith("/") or ".." in key.split("/"):
        raise InvalidInput(f"invalid {kind} name {key!r}: it must be a relative path without '..'")
    if len(_valid_keys) < 100_000:
        _valid_keys.add(key)
    return key


def metric_value(key: str, value: object) -> float:
    """Coerce a metric value to float; NaN and ±inf are kept as they are.

    Raises:
        InvalidInput: the value is not a real number (strings, bools, None, complex),
            or it is too large for a 64-bit float (such as ``10**400``).

    Example:
        >>> metric_value("loss", 10**400)
        Traceback (most recent call last):
        ...
        mloop.errors.InvalidInput: metric 'loss' value 1000000000000000000… does not fit ...
    """
    if type(value) is float:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidInput(
            f"metric {key!r} must be a number, got {value!r} ({type(value).__name__})"
        )
    try:
        number = float(value)
    except OverflowError:
        number = math.inf  # an int too large for a float: refused just below
    # A finite value that only became infinite here (numpy's longdouble 1e4000) does
    # not fit; a value that already was infinite (float32 inf) is kept as inf.
    if math.isinf(number) and value != number:
        raise InvalidInput(
            f"metric {key!r} value {str(value)[:19]}… does not fit in a 64-bit float "
            "(the largest is about 1.8e308); log a scaled value or its logarithm"
        )
    return number


def metric_step(step: object) -> int:
    """Check a step: a non-negative integer that fits in 64 bits."""
    if type(step) is int and 0 <= step <= MAX_STEP:
        return step
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise InvalidInput(f"step must be an integer, got {step!r} ({type(step).__name__})")
    step = int(step)
    if not 0 <= step <= MAX_STEP:
        raise InvalidInput(f"step must be between 0 and {MAX_STEP}, got {step}")
    return step


def timestamp_millis(timestamp: object) -> int:
    """Check a timestamp in milliseconds since the epoch: from 1970 to the end of 9999.

    Example:
        >>> timestamp_millis(2**70)
        Traceback (most recent call last):
        ...
        mloop.errors.InvalidInput: timestamp 1180591620717411303424 is after the year 9999: ...
    """
    if type(timestamp) is int and 0 <= timestamp <= MAX_TIMESTAMP:
        return timestamp
    if isinstance(timestamp, bool) or not isinstance(timestamp, numbers.Integral):
        raise InvalidInput(
            f"timestamp must be integer milliseconds since the epoch, got {timestamp!r}"
        )
    millis = int(timestamp)
    if millis < 0:
        raise InvalidInput(f"timestamp {millis} is before 1970: it must be 0 or more")
    if millis > MAX_TIMESTAMP:
        raise InvalidInput(
            f"timestamp {millis} is after the year 9999: timestamps are integer milliseconds "
            "since the epoch (time.time_ns() // 1_000_000), not nanoseconds"
        )
    return millis


def storable_text(text: str) -> str:
    r"""Text recorded as is (an error, a traceback) made storable: NULs and lone surrogates escaped.

    Example:
        >>> print(storable_text("bad\x00byte"))
        bad\x00byte
    """
    text = text.replace("\x00", "\\x00")
    if text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def param_value(key: str, value: object) -> str:
    """Stringify a param value and check its length (6,000 characters at most)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_PARAM_VALUE_LENGTH:
        raise InvalidInput(
            f"param {key!r} value is {len(text)} characters; the limit is "
            f"{MAX_PARAM_VALUE_LENGTH} (log long values as an artifact with log_text)"
        )
    return check_storable(f"param {key!r} value", text)


def tag_value(key: str, value: object) -> str:
    """Stringify a tag value and check its length (8,000 characters at most)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise InvalidInput(
            f"tag {key!r} value is {len(text)} characters; the limit is {MAX_TAG_VALUE_LENGTH}"
        )
    return check_storable(f"tag {key!r} value", text)


def is_nan(value: float | None) -> bool:
    """True for None (how NaN is stored) and NaN."""
    return value is None or math.isnan(value)
