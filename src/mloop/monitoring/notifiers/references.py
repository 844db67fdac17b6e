"""Secrets in a notifier's spec are references, ``${NAME}``, resolved from the environment.

A spec is what gets stored (with a monitor, in a pipeline, in a config
file), so it never holds a webhook's URL or a password itself: it holds
``${SLACK_WEBHOOK_URL}``, and the value is read from the environment when
the notifier is built. A reference to a variable that is not set is an
error naming the variable.

Example:
    >>> resolve("${HOOK}/path", who="webhook", option="url", environ={"HOOK": "https://h"})
    'https://h/path'
    >>> resolve("${HOOK}", who="slack", option="url", environ={})
    Traceback (most recent call last):
    ...
    mloop.errors.InvalidInput: slack: option 'url' refers to ${HOOK}, which is not set; ...
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from mloop.config import referenced_variable
from mloop.errors import InvalidInput

_REFERENCE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}")


def is_reference(text: str) -> bool:
    """Whether ``text`` holds at least one ``${NAME}``.

    Example:
        >>> is_reference("${SMTP_PASSWORD}"), is_reference("hunter2")
        (True, False)
    """
    return _REFERENCE.search(text) is not None


def resolve(text: str, *, who: str, option: str, environ: Mapping[str, str] | None = None) -> str:
    """``text`` with every ``${NAME}`` replaced by the variable's value.

    Args:
        text: the option's value.
        who: the notifier, for the message.
        option: the option, for the message.
        environ: where the variables are read (default the process's environment).

    Raises:
        InvalidInput: a variable that is not set (or is empty); names it, not a value.
    """

    def value(match: re.Match[str]) -> str:
        name = match["name"]
        found = referenced_variable(name, environ)
        if not found:
            raise InvalidInput(
                f"{who}: option {option!r} refers to ${{{name}}}, which is not set; "
                f"set {name} in the environment"
            )
        return found

    return _REFERENCE.sub(value, text)
