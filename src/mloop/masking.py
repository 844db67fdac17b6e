"""Credentials masked out of URIs and free text before they are shown or stored.

A URI's password (``scheme://user:PASSWORD@host``), and secret-looking query
parameters (``?password=…``, ``&sig=…``, ``token=…``), are replaced by ``***``
wherever a URI is printed: errors, logs, CLI output, stored tags. The user
name and the host stay, so the message still says which store it was.

Example:
    >>> mask_uri("postgresql+psycopg://postgres:S3CRET@db:5432/mloop")
    'postgresql+psycopg://postgres:***@db:5432/mloop'
    >>> mask_text("cannot open 's3://k:s@bucket/x?sig=abc&v=1'")
    "cannot open 's3://k:***@bucket/x?sig=***&v=1'"
"""

from __future__ import annotations

import re

MASK = "***"

# scheme://user:password@ — the password runs to the last '@' before the path.
_USERINFO = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"]*:)(?P<secret>[^\s/'\"]*)(?=@)"
)
# scheme://secret@host where the whole user info is a token (no ':'), e.g. https://ghp_x@github.com
_TOKEN_USERINFO = re.compile(
    r"(?P<head>\b(?:https?|git\+https?|ssh)://)(?P<secret>[A-Za-z0-9_\-]{20,})(?=@)"
)
_SECRET_QUERY = re.compile(
    r"(?P<head>[?&;](?:password|passwd|pwd|pass|secret|token|access_token|api_key|apikey|key"
    r"|sig|signature|sas|x-amz-signature|x-amz-credential|x-amz-security-token|auth"
    r"|client_secret|sslpassword)=)(?P<secret>[^&;\s'\"#]+)",
    re.IGNORECASE,
)


def _mask(match: re.Match[str]) -> str:
    return match.group("head") + MASK


def mask_uri(uri: str) -> str:
    """``uri`` with its password and secret query values replaced by ``***``.

    Example:
        >>> mask_uri("sqlite:////tmp/mloop.db")
        'sqlite:////tmp/mloop.db'
        >>> mask_uri("https://user:pw@host/path?token=abc")
        'https://user:***@host/path?token=***'
    """
    return mask_text(uri)


def mask_text(text: str) -> str:
    """Every URI credential inside free text (an error message, a command line) masked.

    Example:
        >>> mask_text("--db postgresql://u:pw@h/db --lr 0.1")
        '--db postgresql://u:***@h/db --lr 0.1'
    """
    if "://" not in text and "=" not in text:
        return text
    text = _USERINFO.sub(_mask, text)
    text = _TOKEN_USERINFO.sub(_mask, text)
    return _SECRET_QUERY.sub(_mask, text)


def has_credentials(text: str) -> bool:
    """True when ``text`` holds a URI credential that :func:`mask_text` would hide.

    Example:
        >>> has_credentials("redis://:hunter2@cache:6379/0"), has_credentials("s3://bucket/x")
        (True, False)
    """
    return mask_text(text) != text
