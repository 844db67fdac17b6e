"""Reading a request body: bounded before it is read, decompressed within the same bound.

Example:
    >>> _decompress(__import__("gzip").compress(b"{}"), "gzip", 10)
    b'{}'
"""

from __future__ import annotations

import zlib

from starlette.requests import Request

from mloop.errors import InvalidInput, MloopError, UnsupportedMediaType


class BodyTooLarge(MloopError):
    """A request body over the server's limit (413)."""

    http_status = 413


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused before it is read past ``limit`` bytes.

    A body sent with ``Content-Encoding: gzip`` or ``deflate`` (as ``tritonclient``
    sends with ``request_compression_algorithm=``) is decompressed; the limit holds
    for the decompressed bytes too.

    Raises:
        BodyTooLarge: the declared, read or decompressed length is over the limit.
        UnsupportedMediaType: another content encoding.
        InvalidInput: the body does not decompress.
    """
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
        raise UnsupportedMediaType(
            f"content encoding {encoding!r} is not supported; send gzip, deflate or identity"
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"the body is {int(declared):,} bytes; the limit is {limit:,}")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"the body is over the limit of {limit:,} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    if encoding in ("identity", ""):
        return body
    return _decompress(body, encoding, limit)


def _decompress(body: bytes, encoding: str, limit: int) -> bytes:
    """``body`` inflated, at most ``limit`` bytes (zlib or gzip framing, or raw deflate)."""
    # 47: a zlib or gzip header, detected; -15: raw deflate, which some clients send.
    for wbits in (47, -15) if encoding == "deflate" else (47,):
        inflater = zlib.decompressobj(wbits)
        try:
            data = inflater.decompress(body, limit + 1)
        except zlib.error:
            continue
        if len(data) > limit or inflater.unconsumed_tail:
            raise BodyTooLarge(f"the decompressed body is over the limit of {limit:,} bytes")
        if not inflater.eof:
            raise InvalidInput(f"the {encoding} body is truncated")
        return data
    raise InvalidInput(f"the body is not valid {encoding} data")
