"""The project's signing keys: ``mloop.models.init_keys``, ``trusted_keys``, ``revoke_key``.

Example:
    >>> import mloop
    >>> key = mloop.models.init_keys()
    >>> [k.key_id for k in mloop.models.trusted_keys()] == [key.key_id]
    True
"""

from __future__ import annotations

import os
from pathlib import Path

from mloop.context.context import Context
from mloop.entities import SigningKey
from mloop.models import signing
from mloop.models.backend import backend


def init_keys(
    path: str | os.PathLike[str] | None = None,
    *,
    rotate: bool = False,
    context: Context | None = None,
) -> SigningKey:
    """Create the project's Ed25519 signing key and trust its public half.

    The private key goes to ``path`` (default ``MLOOP_SIGNING_KEY``, else
    ``<home>/keys/signing.pem``), readable by its owner only, never into the
    store. From then on registration signs packages, and unsigned packages
    are refused on load. An existing key file is trusted rather than
    replaced; ``rotate`` replaces it and revokes the old key.

    Raises:
        AlreadyExists: the key file's key is trusted already (pass ``rotate``).
    """
    target = Path(path) if path is not None else None
    be = backend(context)
    return signing.init_keys(
        be.settings, be.stores.keys, actor=be.actor, path=target, rotate=rotate
    )


def trusted_keys(
    *, include_revoked: bool = False, context: Context | None = None
) -> list[SigningKey]:
    """The public keys the project trusts (and revoked ones, if asked)."""
    return backend(context).stores.keys.list_keys(include_revoked=include_revoked)


def revoke_key(key_id: str, *, context: Context | None = None) -> SigningKey:
    """Stop trusting a key: versions it signed no longer load."""
    return backend(context).stores.keys.revoke_key(key_id)
