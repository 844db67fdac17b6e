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
from mloop.entities import ModelVersion, ModelVersionStatus, SigningKey
from mloop.errors import IntegrityError
from mloop.models import signing
from mloop.models.backend import backend
from mloop.models.integrity import sign


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


def unsigned_versions(
    *, held_by_alias: bool = False, context: Context | None = None
) -> list[ModelVersion]:
    """The project's READY versions without a signature: what a new key makes unloadable.

    ``mloop keys init`` lists those an alias points at (the ones serving now)
    and signs them all with ``--sign-existing``.

    Example:
        >>> import mloop
        >>> [v.ref for v in mloop.models.unsigned_versions(held_by_alias=True)]
        []
    """
    stores = backend(context).stores
    found = []
    for model in stores.models.list_models():
        for version in stores.models.list_versions(model.name):
            if version.signature is not None or version.status != ModelVersionStatus.READY:
                continue
            if held_by_alias and not version.aliases:
                continue
            found.append(version)
    return found


def sign_existing(*, context: Context | None = None) -> list[ModelVersion]:
    """Sign every unsigned READY version of the project, re-reading each one's files first.

    A version whose files no longer match its digest is left unsigned (and
    named in the error): signing must never vouch for damaged content.

    Raises:
        NotFound: there is no signing key (``mloop keys init`` first).
        IntegrityError: a version's files do not match; the others are signed.
    """
    signed: list[ModelVersion] = []
    damaged: list[str] = []
    for version in unsigned_versions(context=context):
        try:
            signed.append(sign(version.ref, context=context))
        except IntegrityError as err:
            damaged.append(f"{version.ref}: {err}")
    if damaged:
        raise IntegrityError(
            f"signed {len(signed)} version(s); these were left unsigned because their files "
            "do not match: " + "; ".join(damaged)
        )
    return signed
