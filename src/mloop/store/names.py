"""Checks on names and text that every store applies before it writes them.

A store refuses what no database can hold (a NUL, a lone surrogate) and
names its stores accept, whichever domain passes them in.

Example:
    >>> validate_name("credit", "experiment", MAX_EXPERIMENT_NAME_LENGTH)
    'credit'
    >>> validate_name("", "run", MAX_RUN_NAME_LENGTH)
    Traceback (most recent call last):
    ...
    mloop.errors.InvalidInput: run name must be a non-empty string, got ''
"""

from __future__ import annotations

import re

from mloop.errors import InvalidInput

MAX_RUN_NAME_LENGTH = 250
MAX_EXPERIMENT_NAME_LENGTH = 256

_ENDPOINT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-.]{0,127}$")


def check_storable(kind: str, text: str) -> str:
    """Refuse text that a database cannot hold: a NUL, or a string that is not valid Unicode.

    Args:
        kind: what the text is, for the message (``"tag 'team' value"``).
        text: the text.

    Raises:
        InvalidInput: naming ``kind`` and how to fix the text.

    Example:
        >>> check_storable("param 'lr' value", "0.1")
        '0.1'
    """
    # Both databases refuse these inside a batch: PostgreSQL has no NUL in text,
    # and a lone surrogate (from undecodable bytes) cannot be encoded as UTF-8.
    if "\x00" in text:
        raise InvalidInput(f"{kind} {text[:40]!r} contains a NUL character (\\x00); remove it")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as err:
            raise InvalidInput(
                f"{kind} {text[:40]!r} is not valid Unicode ({err.reason} at position "
                f"{err.start}); decode its bytes with errors='replace' first"
            ) from None
    return text


def validate_name(name: object, kind: str, limit: int) -> str:
    """Check an experiment or run name: a non-blank string within ``limit`` characters.

    Raises:
        InvalidInput: not a string, blank, too long, or with control characters.

    Example:
        >>> validate_name("baseline", "run", MAX_RUN_NAME_LENGTH)
        'baseline'
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"{kind} name must be a non-empty string, got {name!r}")
    if len(name) > limit:
        raise InvalidInput(f"{kind} name is {len(name)} characters; the limit is {limit}")
    if any(ord(ch) < 32 for ch in name):
        raise InvalidInput(f"{kind} name {name!r} contains control characters")
    return check_storable(f"{kind} name", name)


def check_endpoint_name(name: object, kind: str) -> str:
    """A deployment, monitor or policy name: up to 128 letters, digits, ``_ - .``.

    It starts with a letter or a digit, so it reads the same in a URL path,
    a file name and a shell.

    Example:
        >>> check_endpoint_name("retrain.credit", "policy")
        'retrain.credit'
    """
    if not isinstance(name, str) or not _ENDPOINT_NAME.match(name):
        raise InvalidInput(
            f"invalid {kind} name {name!r}: use up to 128 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit"
        )
    return name
