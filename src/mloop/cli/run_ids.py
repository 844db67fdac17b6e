"""Run ids on the command line: a unique prefix of four or more hex digits stands for the id.

As git takes a short commit hash, ``mloop runs show 3f2a`` shows the one run
whose id starts with ``3f2a``. A prefix that several runs share is refused
with the candidates listed (exit 2); output always shows full ids.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mloop.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from mloop.tracking.client import Client

MIN_PREFIX = 4
"""The shortest prefix taken for a run id."""

RUN_ID_LENGTH = 32
_SHOWN = 10  # candidates listed when a prefix is ambiguous
_HEX = re.compile(r"[0-9a-fA-F]+")


def resolve_run_id(client: Client, text: str) -> str:
    """The full id of the run that ``text`` names: a full id, or a unique prefix of one.

    Anything that is not hex is passed through as it is, so the store's own
    "not found" answers for it.

    Raises:
        InvalidInput: the prefix is shorter than four digits, or several runs share it.
        NotFound: no run id starts with the prefix.

    Example:
        >>> resolve_run_id(client, "3f2a")  # doctest: +SKIP
        '3f2a0c9d1e8b4f6a9c7d2e1f0a3b5c7d'
    """
    if len(text) >= RUN_ID_LENGTH or not _HEX.fullmatch(text):
        return text
    if len(text) < MIN_PREFIX:
        raise InvalidInput(
            f"run id prefix {text!r} is too short: give at least {MIN_PREFIX} characters"
        )
    found = client.stores.runs.find_run_ids(text, _SHOWN + 1)
    if not found:
        raise NotFound(f"no run id starts with {text!r} (see: mloop runs ls)")
    if len(found) > 1:
        listed = ", ".join(found[:_SHOWN]) + (", …" if len(found) > _SHOWN else "")
        raise InvalidInput(
            f"run id prefix {text!r} is ambiguous; it starts {listed}: give more characters"
        )
    return found[0]


def resolve_run_ids(client: Client, texts: Sequence[str]) -> list[str]:
    """Each of ``texts`` resolved by :func:`resolve_run_id`, in order.

    Example:
        >>> resolve_run_ids(client, ["3f2a", "9c1e"])  # doctest: +SKIP
        ['3f2a0c9d1e8b4f6a9c7d2e1f0a3b5c7d', '9c1e77b0d2a54e1f8b3c6d9a0e2f4b71']
    """
    return [resolve_run_id(client, text) for text in texts]
