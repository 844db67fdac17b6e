"""The one place an artifact root's URL scheme picks its object-store backend.

``/path`` and ``file://`` give :class:`~mloop.artifacts.objects.local.LocalObjects`;
``memory://`` gives :class:`~mloop.artifacts.objects.remote.MemoryObjects`;
any other scheme fsspec knows (``s3://``, ``gs://``, ``az://``…) gives
:class:`~mloop.artifacts.objects.remote.FsspecObjects`, its filesystem
configured by its own standard settings (for S3, botocore's chain). Opening
makes no network call, and a plain path loads no fsspec.

Example:
    >>> type(open_object_store("/data/artifacts")).__name__
    'LocalObjects'
    >>> type(open_object_store("memory://schemes-doc")).__name__
    'MemoryObjects'
"""

from __future__ import annotations

from mloop.artifacts.objects.base import ObjectStore
from mloop.artifacts.objects.local import LocalObjects
from mloop.errors import InvalidInput, MissingExtra
from mloop.masking import mask_uri

_EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs"}


def scheme_of(url: str) -> str:
    """The URL scheme of an artifact root, ``file`` for a plain path.

    Example:
        >>> scheme_of("s3://bucket/prefix"), scheme_of("/data/artifacts")
        ('s3', 'file')
    """
    return url.split("://", 1)[0].lower() if "://" in url else "file"


def open_object_store(url: str) -> ObjectStore:
    """The object store of an artifact root (a path or a URL).

    Raises:
        MissingExtra: the scheme's filesystem package is not installed (``s3fs``…).
        InvalidInput: fsspec knows no such scheme, the URL is malformed, or it holds
            credentials (``s3://KEY:SECRET@bucket``).

    Example:
        >>> open_object_store("file:///data/artifacts").location("objects/ab/cd")
        '/data/artifacts/objects/ab/cd'
    """
    scheme = scheme_of(url)
    if scheme not in ("file", "memory") and "@" in url.split("://", 1)[1].split("/", 1)[0]:
        # Credentials in a URL would travel into every message and record that names
        # the store: refused before anything is opened.
        raise InvalidInput(
            f"artifact store root {mask_uri(url)!r} has credentials in it; name only the "
            f"bucket ({scheme}://bucket/prefix) and give the credentials through the "
            "standard settings (for S3: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "AWS_PROFILE or ~/.aws)"
        )
    if scheme == "file" and "://" not in url:
        return LocalObjects(url)
    # fsspec (~25 ms to import, asyncio with it) loads only for a root given as a URL:
    # a command on a local store never needs it.
    from fsspec.core import url_to_fs

    from mloop.artifacts.objects.remote import FsspecObjects, MemoryObjects

    if scheme == "memory":
        return MemoryObjects(url)
    try:
        # Listings are never cached: another process may add objects at any time.
        options = {} if scheme == "file" else {"use_listings_cache": False}
        fs, path = url_to_fs(url, **options)
    except ImportError:
        extra = _EXTRAS.get(scheme, "all")
        raise MissingExtra(f"the filesystem for {scheme}://", extra=extra) from None
    except (ValueError, TypeError) as err:
        raise InvalidInput(
            f"artifact store root {mask_uri(url)!r} is not usable: {err}; use a folder "
            "path or a URL such as s3://bucket/prefix"
        ) from None
    if scheme == "file":
        return LocalObjects(path)
    return FsspecObjects(url, fs, path)
