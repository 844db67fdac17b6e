"""Credentials masked out of URIs and free text before they are shown or stored.

A URI's password (``scheme://user:PASSWORD@host``), and secret-looking query
parameters (``?password=…``, ``&sig=…``, ``token=…``), are replaced by ``***``
wherever a URI is printed: errors, logs, CLI output, stored tags. The user
name and the host stay, so the message still says which store it was.

The password runs from ``scheme://user:`` to the *last* ``@`` of the URI, so
one holding ``/``, ``@``, a quote or a space is masked whole. Inside free
text a URI ends at the first blank, or, when it follows a quote, at the
matching quote that ends a word (``'…'``, ``"…"``, as a shell or ``repr``
quotes it); a space in a password is only seen inside such quotes.

Example:
    >>> mask_uri("postgresql+psycopg://postgres:S3CRET@db:5432/mloop")
    'postgresql+psycopg://postgres:***@db:5432/mloop'
    >>> mask_text("cannot open 's3://k:s@bucket/x?sig=abc&v=1'")
    "cannot open 's3://k:***@bucket/x?sig=***&v=1'"
"""

from __future__ import annotations

import re

MASK = "***"

# scheme://user: — the password starts after it (see _mask_passwords for where it ends).
_USERINFO_HEAD = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"]*:")
_QUOTES = "'\""
_AFTER_CLOSING_QUOTE = ",;:.)]}"
_BLANK = re.compile(r"\s")
_PORT = re.compile(r"[0-9]+[/?#]")  # host:PORT/path, where a later '@' is in the path
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
        >>> mask_uri("postgresql://u:pa/ss w@rd@db/mloop")
        'postgresql://u:***@db/mloop'
    """
    head = _USERINFO_HEAD.match(uri)
    at = _password_end(uri, head.end(), len(uri)) if head else -1
    if head is not None and at >= 0:  # the whole text is the URI: blanks too
        uri = uri[: head.end()] + MASK + uri[at:]
    return mask_text(uri)


def mask_text(text: str) -> str:
    """Every URI credential inside free text (an error message, a command line) masked.

    Example:
        >>> mask_text("--db postgresql://u:pw@h/db --lr 0.1")
        '--db postgresql://u:***@h/db --lr 0.1'
    """
    if "://" not in text and "=" not in text:
        return text
    text = _mask_passwords(text)
    text = _TOKEN_USERINFO.sub(_mask, text)
    return _SECRET_QUERY.sub(_mask, text)


def _mask_passwords(text: str) -> str:
    parts: list[str] = []
    done = 0  # text[:done] is copied to parts already
    for head in _USERINFO_HEAD.finditer(text):
        start = head.end()
        if start < done:
            continue  # inside a password masked already
        at = _password_end(text, start, _uri_end(text, head.start(), start))
        if at < 0:
            continue
        parts += [text[done:start], MASK]
        done = at
    return "".join(parts) + text[done:]


def _password_end(text: str, start: int, end: int) -> int:
    """The last ``@`` of the URI, or -1 when ``start`` begins a port, not a password."""
    at = text.rfind("@", start, end)
    if at < 0 or _PORT.match(text, start, at):
        return -1  # no user info: ``http://localhost:5000/x?mail=a@b.org``
    return at


def _uri_end(text: str, uri_start: int, start: int) -> int:
    """Where the URI whose password begins at ``start`` ends."""
    quote = text[uri_start - 1] if uri_start and text[uri_start - 1] in _QUOTES else None
    if quote is not None:  # the quote that ends a word closes it: spaces may be inside
        at = start
        while (at := text.find(quote, at)) >= 0:
            after = text[at + 1 : at + 2]
            if not after or after.isspace() or after in _AFTER_CLOSING_QUOTE:
                return at
            at += 1
    blank = _BLANK.search(text, start)
    return blank.start() if blank else len(text)


def has_credentials(text: str) -> bool:
    """True when ``text`` holds a URI credential that :func:`mask_text` would hide.

    Example:
        >>> has_credentials("redis://:hunter2@cache:6379/0"), has_credentials("s3://bucket/x")
        (True, False)
    """
    return mask_text(text) != text
