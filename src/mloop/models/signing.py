"""Signing model packages with the project's Ed25519 key, and checking signatures on load.

``mloop keys init`` writes a private key to a file only its owner can read
(``MLOOP_SIGNING_KEY``, default ``<home>/keys/signing.pem``; it never enters
the store) and registers the public half as trusted in the metadata store.
Registration signs the package digest; loading verifies it against the
trusted, unrevoked keys. Once the project trusts a key, unsigned packages are
refused (``MLOOP_REQUIRE_SIGNATURES`` = ``auto``, the default; ``true`` or
``false`` decide outright).

Example:
    >>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    >>> key = Ed25519PrivateKey.generate()
    >>> key_id, signature = sign_digest(key, "ab" * 32)
    >>> trusted = [SigningKey(key_id, public_key_text(key), "ana", 0)]
    >>> verify_digest("ab" * 32, signature, key_id, trusted)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import stat
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mloop.config import Settings
from mloop.entities import SigningKey
from mloop.errors import AlreadyExists, IntegrityError, InvalidInput, NotFound, PermissionDenied
from mloop.store.protocols.registry import KeyStore

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

_CONTEXT = b"mloop-model-v1\n"  # signatures of model digests cannot be replayed elsewhere


def _raw_public(private: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def key_id_of(raw_public: bytes) -> str:
    """A key's id: the first 16 hex digits of the SHA-256 of its raw public bytes."""
    return hashlib.sha256(raw_public).hexdigest()[:16]


def public_key_text(private: Ed25519PrivateKey) -> str:
    """The public half of a private key, base64 of its 32 raw bytes."""
    return base64.b64encode(_raw_public(private)).decode()


def sign_digest(private: Ed25519PrivateKey, digest: str) -> tuple[str, str]:
    """``(key id, base64 signature)`` of a package digest."""
    signature = private.sign(_CONTEXT + digest.encode())
    return key_id_of(_raw_public(private)), base64.b64encode(signature).decode()


def verify_digest(digest: str, signature: str, key_id: str, trusted: Sequence[SigningKey]) -> None:
    """Check a signature of ``digest`` by the trusted key ``key_id``.

    Raises:
        IntegrityError: the key is unknown or revoked, or the signature does not verify.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = next((k for k in trusted if k.key_id == key_id and k.revoked_time is None), None)
    if key is None:
        raise IntegrityError(
            f"the package is signed by key {key_id}, which this project does not trust "
            "(see: mloop keys ls); refusing to load it"
        )
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key.public_key))
        public.verify(base64.b64decode(signature, validate=True), _CONTEXT + digest.encode())
    except (InvalidSignature, ValueError, binascii.Error):
        raise IntegrityError(
            f"the package's signature by key {key_id} does not match its digest "
            f"{digest[:12]}: the package or its signature was tampered with; refusing to load it"
        ) from None


def signatures_required(settings: Settings, keys: KeyStore) -> bool:
    """Whether unsigned packages are refused: by setting, or once the project trusts a key."""
    if settings.require_signatures != "auto":
        return settings.require_signatures == "true"
    return bool(keys.list_keys())


def check_signature(
    digest: str,
    signature: str | None,
    key_id: str | None,
    *,
    settings: Settings,
    keys: KeyStore,
    what: str,
    registered_as: Sequence[str] = (),
) -> bool:
    """Verify a package's signature, or refuse an unsigned one where signatures are required.

    Returns whether the package was signed. ``registered_as`` names the
    registered versions of the package (``credit/3``), for the fix an error gives.

    Raises:
        IntegrityError: a bad signature, an untrusted key, or an unsigned package where
            the project requires signatures.
    """
    if signature is not None and key_id is not None:
        verify_digest(digest, signature, key_id, keys.list_keys(include_revoked=True))
        return True
    if signatures_required(settings, keys):
        fix = (
            f"sign it with `mloop models sign {registered_as[0]}`"
            if registered_as
            else "log or register it again with the project's signing key present"
        )
        raise IntegrityError(
            f"{what} is not signed and this project requires signed models (it trusts a "
            f"signing key); {fix}, or set MLOOP_REQUIRE_SIGNATURES=false to accept unsigned "
            "models"
        )
    return False


# -- the private key file ------------------------------------------------------------------


def load_private_key(path: Path) -> Ed25519PrivateKey | None:
    """The private key at ``path``, or None when there is no file.

    Raises:
        PermissionDenied: the file can be read by others than its owner.
        InvalidInput: the file is not an unencrypted Ed25519 private key in PEM.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PermissionDenied(
            f"signing key {path} is readable by other users (mode {stat.S_IMODE(mode):o}); "
            f"restrict it with: chmod 600 {path}"
        )
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as err:
        raise InvalidInput(f"{path} is not an unencrypted PEM private key: {err}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput(f"{path} holds a {type(key).__name__}; mloop signs with Ed25519 keys")
    return key


def _write_private_key(private: Ed25519PrivateKey, path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = path.with_name(f".{path.name}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    os.replace(temp, path)


def init_keys(
    settings: Settings,
    keys: KeyStore,
    *,
    actor: str,
    path: Path | None = None,
    rotate: bool = False,
) -> SigningKey:
    """Create the project's signing key (or trust an existing key file) and return its public key.

    With an existing key file, its public key is trusted (if it is not
    already) and returned; ``rotate`` makes a new key instead and revokes the
    old one, so that what it signed no longer verifies.

    Raises:
        AlreadyExists: the key file's key is trusted already and ``rotate`` is False.
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    target = (path or settings.resolved_signing_key()).absolute()
    existing = load_private_key(target)
    trusted = {k.key_id: k for k in keys.list_keys(include_revoked=True)}
    if existing is not None and not rotate:
        key_id = key_id_of(_raw_public(existing))
        if key_id in trusted and trusted[key_id].revoked_time is None:
            raise AlreadyExists(
                f"signing key {key_id} at {target} is already trusted; pass --rotate for a new one"
            )
        if key_id in trusted:
            raise PermissionDenied(f"signing key {key_id} at {target} was revoked; rotate it")
        return _trust(existing, keys, actor)
    private = Ed25519PrivateKey.generate()
    _write_private_key(private, target)
    new = _trust(private, keys, actor)
    if existing is not None:
        old = key_id_of(_raw_public(existing))
        if old in trusted and trusted[old].revoked_time is None:
            keys.revoke_key(old)
    return new


def _trust(private: Ed25519PrivateKey, keys: KeyStore, actor: str) -> SigningKey:
    key = SigningKey(
        key_id_of(_raw_public(private)),
        public_key_text(private),
        actor,
        time.time_ns() // 1_000_000,
    )
    keys.add_key(key)
    return key


def project_signer(settings: Settings, keys: KeyStore) -> Ed25519PrivateKey | None:
    """The private key that signs this project's packages, or None when unsigned is allowed.

    Raises:
        NotFound: the project requires signatures but the key file is missing.
        IntegrityError: the key file's key is not one the project trusts.
    """
    path = settings.resolved_signing_key()
    private = load_private_key(path)
    required = signatures_required(settings, keys)
    if private is None:
        if required:
            raise NotFound(
                f"this project requires signed models but there is no signing key at {path}; "
                "point MLOOP_SIGNING_KEY at the project's key, or create one with "
                "mloop keys init"
            )
        return None
    key_id = key_id_of(_raw_public(private))
    if not any(k.key_id == key_id for k in keys.list_keys()):
        if not required and not keys.list_keys(include_revoked=True):
            return None  # a stray key file in a project that does not sign: ignore it
        raise IntegrityError(
            f"the signing key at {path} ({key_id}) is not trusted by this project; trust it "
            "with mloop keys init, or use the project's key"
        )
    return private


def signature_file(digest: str, key_id: str, signature: str) -> bytes:
    """The detached ``mloop-model.sig`` that travels with a package folder."""
    return json.dumps({"digest": digest, "key_id": key_id, "signature": signature}).encode()


def read_signature_file(data: bytes, digest: str) -> tuple[str | None, str | None]:
    """``(key id, signature)`` from a detached signature of the package with ``digest``.

    Raises:
        IntegrityError: the file is malformed or signs another digest.
    """
    try:
        document = json.loads(data)
        signed, key_id, signature = document["digest"], document["key_id"], document["signature"]
    except (ValueError, KeyError, TypeError) as err:
        raise IntegrityError(f"the package's signature file is malformed: {err}") from None
    if signed != digest:
        raise IntegrityError(
            "the package's signature file signs another package (digest "
            f"{str(signed)[:12]}, the package is {digest[:12]})"
        )
    return str(key_id), str(signature)
