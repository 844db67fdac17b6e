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

from mloop.entities import SigningKey
from mloop.models import signing
from mloop.models.backend import backend, settings


def init_keys(path: str | os.PathLike[str] | None = None, *, rotate: bool = False) -> SigningKey:
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
    return signing.init_keys(settings(), backend().stores.keys, path=target, rotate=rotate)


def trusted_keys(*, include_revoked: bool = False) -> list[SigningKey]:
    """The public keys the project trusts (and revoked ones, if asked)."""
    return backend().stores.keys.list_keys(include_revoked=include_revoked)


def revoke_key(key_id: str) -> SigningKey:
    """Stop trusting a key: versions it signed no longer load."""
    return backend().stores.keys.revoke_key(key_id)
