from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import mloop
from mloop.entities import SigningKey
from mloop.errors import AlreadyExists, IntegrityError, InvalidInput, NotFound, PermissionDenied
from mloop.models.backend import backend
from mloop.models.package import SIGNATURE_FILE
from mloop.models.signing import (
    public_key_text,
    read_signature_file,
    sign_digest,
    signature_file,
    verify_digest,
)
from mloop.store import schema
from tests.models.conftest import FEATURES, log_and_register


def _tamper_signature(name: str, version: int, signature: str) -> None:
    engine = sa.create_engine(mloop.get_tracking_uri())
    with engine.begin() as conn:
        conn.execute(
            schema.model_versions.update()
            .where(schema.model_versions.c.version == version)
            .values(signature=signature)
        )
    engine.dispose()


def test_init_writes_a_private_key_only_its_owner_reads(home: Path) -> None:
    key = mloop.models.init_keys()
    path = home / "keys" / "signing.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in path.read_bytes()
    assert [k.key_id for k in mloop.models.trusted_keys()] == [key.key_id]
    with pytest.raises(AlreadyExists, match="already trusted"):
        mloop.models.init_keys()


def test_registration_signs_and_load_verifies(
    home: Path, credit: pd.DataFrame, classifier: Any
) -> None:
    key = mloop.models.init_keys()
    info = log_and_register(classifier, credit)
    version = info.registered_version
    assert version is not None
    assert version.signing_key_id == key.key_id
    assert version.signature
    report = mloop.models.verify("credit/1")
    assert (report.signed, report.key_id) == (True, key.key_id)
    # the run's copy carries a detached signature too
    sig = mloop.Client().load_text(info.run_id, f"model/{SIGNATURE_FILE}")
    assert json.loads(sig)["digest"] == info.digest
    mloop.models.load(info.model_uri)


def test_a_forged_signature_is_refused(home: Path, credit: pd.DataFrame, classifier: Any) -> None:
    mloop.models.init_keys()
    log_and_register(classifier, credit)
    other = Ed25519PrivateKey.generate()
    _, forged = sign_digest(other, mloop.models.get_version("credit/1").digest)
    _tamper_signature("credit", 1, forged)
    mloop.models.clear_cache()
    with pytest.raises(IntegrityError, match="tampered"):
        mloop.models.load("models:/credit/1")
    with pytest.raises(IntegrityError, match="tampered"):
        mloop.models.verify("credit/1")


def test_unsigned_packages_are_refused_once_the_project_trusts_a_key(
    home: Path, tmp_path: Path, credit: pd.DataFrame, classifier: Any
) -> None:
    info = log_and_register(classifier, credit)  # before there is a key: unsigned
    mloop.models.save(classifier, tmp_path / "pkg")
    mloop.models.load("models:/credit/1")
    mloop.models.init_keys()
    mloop.models.clear_cache()
    for uri in ("models:/credit/1", info.model_uri):
        with pytest.raises(IntegrityError, match="not signed") as caught:
            mloop.models.load(uri)
        assert "mloop models sign credit/1" in str(caught.value)  # the fix that works
    with pytest.raises(IntegrityError, match="log or register it again") as caught:
        mloop.models.load(tmp_path / "pkg")  # never registered: nothing to sign by name
    assert "MLOOP_REQUIRE_SIGNATURES=false" in str(caught.value)
    signed = mloop.models.sign("credit/1")  # re-reads the files, then signs
    assert signed.signing_key_id is not None
    mloop.models.load("models:/credit/1")
    mloop.models.load(info.model_uri)  # the registry's signature covers the run's copy


def test_the_setting_decides_outright(
    home: Path, monkeypatch: pytest.MonkeyPatch, credit: pd.DataFrame, classifier: Any
) -> None:
    log_and_register(classifier, credit)
    monkeypatch.setenv("MLOOP_REQUIRE_SIGNATURES", "true")
    with pytest.raises(IntegrityError, match="not signed"):
        mloop.models.load("models:/credit/1")
    with pytest.raises(NotFound, match="no signing key"):
        mloop.models.register("models:/credit/1", "credit")
    mloop.models.init_keys()
    monkeypatch.setenv("MLOOP_REQUIRE_SIGNATURES", "false")
    mloop.models.load("models:/credit/1")


def test_a_revoked_key_no_longer_verifies(
    home: Path, credit: pd.DataFrame, classifier: Any
) -> None:
    key = mloop.models.init_keys()
    log_and_register(classifier, credit)
    revoked = mloop.models.revoke_key(key.key_id)
    assert revoked.revoked_time is not None
    assert mloop.models.trusted_keys() == []
    mloop.models.clear_cache()
    with pytest.raises(IntegrityError, match="does not trust"):
        mloop.models.load("models:/credit/1")
    with pytest.raises(NotFound, match="no signing key"):
        mloop.models.revoke_key("0" * 16)


def test_rotating_makes_a_new_key_and_revokes_the_old(
    home: Path, credit: pd.DataFrame, classifier: Any
) -> None:
    old = mloop.models.init_keys()
    log_and_register(classifier, credit)
    new = mloop.models.init_keys(rotate=True)
    assert new.key_id != old.key_id
    assert [k.key_id for k in mloop.models.trusted_keys()] == [new.key_id]
    mloop.models.clear_cache()
    with pytest.raises(IntegrityError, match="does not trust"):
        mloop.models.load("models:/credit/1")
    mloop.models.sign("credit/1")
    mloop.models.load("models:/credit/1")


def test_a_key_file_not_trusted_by_the_project_cannot_sign(
    home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    credit: pd.DataFrame,
    classifier: Any,
) -> None:
    mloop.models.init_keys()
    stranger = tmp_path / "stranger.pem"
    mloop.models.init_keys(stranger)  # trusted now …
    mloop.models.revoke_key(mloop.models.trusted_keys()[-1].key_id)  # … and revoked again
    monkeypatch.setenv("MLOOP_SIGNING_KEY", str(stranger))
    with pytest.raises(IntegrityError, match="not trusted by this project"):
        log_and_register(classifier, credit)


def test_a_key_file_readable_by_others_is_refused(home: Path) -> None:
    mloop.models.init_keys()
    path = home / "keys" / "signing.pem"
    path.chmod(0o644)
    with pytest.raises(PermissionDenied, match="chmod 600"):
        mloop.models.init_keys()


def test_a_file_that_is_not_a_key_is_refused(home: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("hello")
    bogus.chmod(0o600)
    with pytest.raises(InvalidInput, match="not an unencrypted PEM private key"):
        mloop.models.init_keys(bogus)


def test_a_folder_package_carries_a_detached_signature(
    home: Path, tmp_path: Path, credit: pd.DataFrame, classifier: Any
) -> None:
    mloop.models.init_keys()
    folder = tmp_path / "pkg"
    manifest = mloop.models.save(classifier, folder, input_example=credit[FEATURES][:2])
    with pytest.raises(IntegrityError, match="not signed"):
        mloop.models.load(folder)
    mloop.models.register(folder, "signed-folder")  # signs its digest in the registry
    mloop.models.load(folder)
    mloop.models.clear_cache()
    (folder / SIGNATURE_FILE).write_bytes(signature_file("ab" * 32, "k", "s"))
    with pytest.raises(IntegrityError, match="signs another package"):
        mloop.models.load(folder)
    assert manifest.digest


def test_signatures_bind_the_digest() -> None:
    key = Ed25519PrivateKey.generate()
    key_id, signature = sign_digest(key, "ab" * 32)
    trusted = [SigningKey(key_id, public_key_text(key), "ana", 0)]
    verify_digest("ab" * 32, signature, key_id, trusted)
    with pytest.raises(IntegrityError, match="does not match its digest"):
        verify_digest("cd" * 32, signature, key_id, trusted)
    with pytest.raises(IntegrityError, match="does not match"):
        verify_digest("ab" * 32, "!!not base64!!", key_id, trusted)
    with pytest.raises(IntegrityError, match="does not trust"):
        verify_digest("ab" * 32, signature, "ffff", trusted)
    assert read_signature_file(signature_file("ab" * 32, key_id, signature), "ab" * 32) == (
        key_id,
        signature,
    )
    with pytest.raises(IntegrityError, match="malformed"):
        read_signature_file(b"{}", "ab" * 32)


def test_keys_are_stored_as_public_halves_only(home: Path) -> None:
    mloop.models.init_keys()
    engine = sa.create_engine(mloop.get_tracking_uri())
    with engine.connect() as conn:
        rows = conn.execute(sa.select(schema.signing_keys)).all()
    engine.dispose()
    assert len(rows) == 1
    private = (home / "keys" / "signing.pem").read_text()
    assert all("PRIVATE" not in str(v) and str(v) not in private for v in rows[0] if v)
    assert backend().stores.keys.list_keys()[0].public_key == rows[0].public_key


def test_a_new_key_names_the_unsigned_versions_and_signs_them_on_request(
    home: Path, credit: pd.DataFrame, classifier: Any
) -> None:
    log_and_register(classifier, credit)
    log_and_register(classifier, credit)
    mloop.models.set_alias("credit", "champion", 1)
    mloop.models.init_keys()
    held = mloop.models.unsigned_versions(held_by_alias=True)
    assert [v.ref for v in held] == ["credit/1"]  # what serves now and would stop loading
    assert [v.ref for v in mloop.models.unsigned_versions()] == ["credit/1", "credit/2"]
    signed = mloop.models.sign_existing()
    assert [v.ref for v in signed] == ["credit/1", "credit/2"]
    assert mloop.models.unsigned_versions() == []
    mloop.models.clear_cache()
    mloop.models.load("models:/credit@champion")
