"""What every notifier is, and how one shows the receiver it sends to.

A notifier is anything with ``send(alerts)`` that delivers every alert or
raises :class:`~mloop.errors.NotificationFailed`. Its ``repr`` and its error
messages name the receiver through :func:`shown_url`, which keeps the host
and the first part of the path and masks the rest, where services put their
tokens.

Example:
    >>> shown_url("https://hooks.slack.com/services/T000/B000/s3cr3t-t0ken")
    'https://hooks.slack.com/services/***'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from mloop.masking import MASK, mask_uri
from mloop.monitoring.alerts import Alert

# A path segment shown as it is: a word such as "services", "api", "hooks"; never a token.
_WORD = re.compile(r"^[A-Za-z][A-Za-z_-]{0,23}$")


@runtime_checkable
class Notifier(Protocol):
    """Delivers alerts somewhere: a chat, a pager, a mailbox, a log.

    ``send`` delivers all of ``alerts`` in one message where the receiver
    allows, or raises :class:`~mloop.errors.NotificationFailed` (after its
    retries) with a message that holds no secret.

    Example:
        >>> from mloop.monitoring.notifiers.log import LogNotifier
        >>> isinstance(LogNotifier(), Notifier)
        True
    """

    kind: str

    def send(self, alerts: Sequence[Alert]) -> None:
        """Deliver ``alerts``; raise NotificationFailed if they could not be delivered."""
        ...


def shown_url(url: str) -> str:
    """``url`` as it may be shown: scheme, host, port and a first path word; the rest ``***``.

    The first segment of the path is kept when it is a word of letters (no
    digits: tokens have them), such as ``services`` or ``api``; everything
    after it, the query and a password in the URL are masked. Use it in every ``repr``, log record
    and error message that names a receiver.

    Example:
        >>> shown_url("http://127.0.0.1:9000/hook")
        'http://127.0.0.1:9000/hook'
        >>> shown_url("https://example.org/a1b2c3d4e5")
        'https://example.org/***'
        >>> shown_url("https://alice:pw@example.org/api/v1/alerts?token=abc")
        'https://alice:***@example.org/api/***'
    """
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
    except ValueError:  # a malformed URL: show nothing of it but its scheme
        return f"{url.partition(':')[0]}:{MASK}" if ":" in url else MASK
    if "@" in netloc:
        netloc = mask_uri(f"{parts.scheme}://{netloc}").split("://", 1)[1]
    segments = [s for s in parts.path.split("/") if s]
    head = f"{parts.scheme}://{netloc}"
    if segments and _WORD.match(segments[0]):
        head, segments = f"{head}/{segments[0]}", segments[1:]
    if segments or parts.query or parts.fragment:
        return f"{head}/{MASK}"
    return head + ("/" if parts.path.endswith("/") else "")
