"""Redaction of secret-looking param and tag values.

A key looks like a secret when one of its words is ``password``, ``secret``,
``token``, ``credential`` … or it ends in a ``…key`` word such as ``api_key``,
``access-key`` or ``privateKey``.

Example:
    >>> redact("db_password", "hunter2")
    '***REDACTED***'
    >>> redact("learning_rate", "0.1")
    '0.1'
"""

from __future__ import annotations

import re
from functools import lru_cache

REDACTED = "***REDACTED***"

_SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "secret",
        "token",
        "credential",
        "credentials",
        "apikey",
        "auth",
        "authorization",
        "bearer",
        "cookie",
        "dsn",
        "privatekey",
        "accesskey",
        "secretkey",
    }
)
_KEY_QUALIFIERS = frozenset({"api", "access", "private", "secret", "signing", "encryption", "ssh"})
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


@lru_cache(maxsize=4096)
def looks_secret(key: str) -> bool:
    """True when ``key`` names something that should not be stored in clear.

    Example:
        >>> [looks_secret(k) for k in ("apiKey", "AWS_SECRET_ACCESS_KEY", "monkey", "key")]
        [True, True, False, True]
    """
    words = [w.lower() for w in _WORD.findall(key)]
    if not words:
        return False
    if any(w in _SECRET_WORDS for w in words):
        return True
    if words == ["key"]:
        return True
    return any(
        w == "key" and i > 0 and words[i - 1] in _KEY_QUALIFIERS for i, w in enumerate(words)
    )


def redact(key: str, value: str) -> str:
    """The value to store for ``key``: ``***REDACTED***`` when the key looks secret."""
    return REDACTED if looks_secret(key) else value
