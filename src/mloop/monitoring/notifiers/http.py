"""One JSON POST with a timeout and a bounded number of retries, standard library only.

A receiver that answers 5xx or 429, refuses the connection or does not answer
within the timeout is asked again, up to ``attempts`` times in all, waiting
``backoff`` seconds, then twice that, between tries. A 4xx answer (a wrong
URL, a payload refused) is not retried. Failures raise
:class:`~mloop.errors.NotificationFailed` naming the receiver by
:func:`~mloop.monitoring.notifiers.base.shown_url` only.

Example:
    >>> post_json("ftp://example.org/x", {}, who="webhook")
    Traceback (most recent call last):
    ...
    mloop.errors.InvalidInput: webhook: URL ftp://example.org/x is not http:// or https://
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from mloop.errors import InvalidInput, NotificationFailed
from mloop.monitoring.notifiers.base import shown_url

RETRIED_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
"""HTTP answers after which a notification is tried again."""

MAX_BACKOFF = 10.0
"""Seconds: the longest wait between two tries."""


def check_http_url(url: str, who: str) -> str:
    """``url`` unchanged if it is an http(s) URL.

    Raises:
        InvalidInput: any other URL, shown masked.
    """
    if not url.startswith(("http://", "https://")):
        if "://" not in url:  # not a URL at all: a "$NAME" without braces, a typo
            hint = ' (a reference to a variable is written "${NAME}")' if "$" in url else ""
            raise InvalidInput(f"{who}: the URL does not start with http:// or https://{hint}")
        raise InvalidInput(f"{who}: URL {shown_url(url)} is not http:// or https://")
    return url


def post_json(
    url: str,
    payload: Any,
    *,
    who: str,
    timeout: float = 10.0,
    attempts: int = 3,
    backoff: float = 0.5,
    headers: Mapping[str, str] | None = None,
) -> None:
    """POST ``payload`` as JSON to ``url``; retry failures a bounded number of times.

    Args:
        url: the receiver.
        payload: anything :func:`json.dumps` takes.
        who: the notifier, for error messages (``slack``, ``webhook``).
        timeout: seconds to wait for each answer.
        attempts: tries in all (at least 1).
        backoff: seconds before the second try; doubled before each next one.
        headers: extra request headers (an ``Authorization``); never shown.

    Raises:
        InvalidInput: a URL that is not http(s), or attempts < 1.
        NotificationFailed: the last try failed; says how, without the URL's secrets.
    """
    check_http_url(url, who)
    if attempts < 1:
        raise InvalidInput(f"{who}: attempts must be at least 1, got {attempts}")
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    request_headers = {"Content-Type": "application/json", "User-Agent": "mloop-notifier"}
    request_headers.update(headers or {})
    problem = ""
    for attempt in range(attempts):
        if attempt:
            time.sleep(min(backoff * 2 ** (attempt - 1), MAX_BACKOFF))
        request = urllib.request.Request(url, data=body, headers=request_headers, method="POST")
        retry, problem = _try(request, timeout)
        if not problem:
            return
        if not retry:
            break
    tries = f"{attempt + 1} attempt{'s' if attempt else ''}"
    raise NotificationFailed(f"{who}: POST to {shown_url(url)} failed after {tries}: {problem}")


def _try(request: urllib.request.Request, timeout: float) -> tuple[bool, str]:
    """(whether to try again, what went wrong), or (False, "") when it worked."""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
        return False, ""
    except urllib.error.HTTPError as err:
        status = err.code
        err.close()
        return status in RETRIED_STATUSES, f"the receiver answered HTTP {status}"
    except TimeoutError:
        return True, f"no answer within {timeout:g} s"
    except urllib.error.URLError as err:
        # Its reason is an OSError (refused, unknown host) and never holds the URL.
        reason = err.reason
        if isinstance(reason, TimeoutError | socket.timeout):
            return True, f"no answer within {timeout:g} s"
        text = reason.strerror if isinstance(reason, OSError) and reason.strerror else reason
        return True, f"could not connect ({text})"
    except OSError as err:  # a connection reset while reading the answer
        return True, f"connection failed ({err.strerror or type(err).__name__})"
