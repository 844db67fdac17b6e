"""``mloop keys``: the project's signing keys, and what they mean for ``mloop models``."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

import mloop
from mloop.errors import AlreadyExists
from tests.cli.conftest import invoke
from tests.models.conftest import credit_frame, fit_classifier, log_and_register


def _key_ids(*flags: str) -> list[str]:
    code, out, err = invoke("keys", "ls", "--json", *flags)
    assert code == 0, err
    return [k["key_id"] for k in json.loads(out)]


def test_init_ls_and_revoke(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOOP_USER", "ana")
    mloop.Client()  # an empty store: read-only commands never create one
    code, out, err = invoke("keys", "ls")
    assert (code, err) == (0, "")
    assert "Signing keys" in out
    assert _key_ids() == []

    code, out, err = invoke("keys", "init")
    assert code == 0, err
    private = home / "keys" / "signing.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in private.read_bytes()
    (key,) = json.loads(invoke("keys", "ls", "--json")[1])
    assert out.splitlines() == [
        f"signing key {key['key_id']} trusted; private key at {private} (mode 600)",
        "registered versions are now signed, and unsigned packages are refused",
    ]
    assert (key["created_by"], key["revoked_time"]) == ("ana", None)
    assert key["public_key"] and "PRIVATE" not in key["public_key"]

    before = private.read_bytes()
    code, out, err = invoke("keys", "init")
    assert (code, out) == (4, "")
    assert err.startswith("error: ")
    assert f"signing key {key['key_id']} at {private} is already trusted" in err
    assert "--rotate" in err
    assert private.read_bytes() == before  # the key file is left alone

    code, out, _ = invoke("keys", "ls")
    row = next(line for line in out.splitlines() if key["key_id"] in line)
    assert "ana" in row and key["public_key"] in row

    code, out, err = invoke("keys", "revoke", key["key_id"])
    assert (code, out.strip()) == (0, f"signing key {key['key_id']} revoked"), err
    assert _key_ids() == []  # revoked keys are hidden unless asked for
    assert _key_ids("--all") == [key["key_id"]]
    (revoked,) = json.loads(invoke("keys", "ls", "--all", "--json")[1])
    assert revoked["revoked_time"] is not None
    code, out, _ = invoke("keys", "ls", "--all")
    row = next(line for line in out.splitlines() if key["key_id"] in line)
    assert row.count("20") >= 2  # a created and a revoked date, not "-"
    assert " - " not in row

    code, _, _ = invoke("keys", "revoke", key["key_id"])  # revoking again changes nothing
    assert code == 0
    assert json.loads(invoke("keys", "ls", "--all", "--json")[1]) == [revoked]

    code, out, err = invoke("keys", "revoke", "0" * 16)
    assert (code, out) == (3, "")
    assert "error: no signing key '0000000000000000' (see: mloop keys ls)" in err


def test_init_with_a_revoked_key_file_asks_to_rotate(home: Path) -> None:
    invoke("keys", "init")
    (old,) = _key_ids()
    invoke("keys", "revoke", old)
    code, _, err = invoke("keys", "init")
    assert code == 5 and f"signing key {old}" in err and "was revoked; rotate it" in err
    code, out, err = invoke("keys", "init", "--rotate")
    assert code == 0, err
    (new,) = _key_ids()
    assert new != old and new in out
    assert _key_ids("--all") == [old, new]


def test_init_at_a_chosen_path(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "elsewhere" / "project.pem"
    code, out, err = invoke("keys", "init", "--path", str(target))
    assert code == 0, err
    assert f"private key at {target} (mode 600)" in out
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert not (home / "keys" / "signing.pem").exists()
    assert len(_key_ids()) == 1


def test_keys_and_model_signatures(home: Path) -> None:
    frame = credit_frame(120)
    log_and_register(fit_classifier(frame), frame)  # before the project has a key: unsigned
    code, out, err = invoke("models", "verify", "credit/1")
    assert code == 0, err
    assert out.strip().endswith("; not signed")

    assert invoke("keys", "init")[0] == 0
    (key_id,) = _key_ids()
    code, out, err = invoke("models", "verify", "credit/1")
    assert (code, out) == (6, "")
    assert err.startswith("error: ") and "not signed" in err
    code, out, _ = invoke("models", "ls", "credit")
    assert "no" in next(line for line in out.splitlines() if "credit/1" in line).split("│")[-2]

    code, out, err = invoke("models", "sign", "credit/1")
    assert (code, out.strip()) == (0, f"credit/1 signed by key {key_id}"), err
    code, out, err = invoke("models", "verify", "credit/1")
    assert code == 0, err
    assert out.strip().endswith(f"; signature by key {key_id} valid")
    report = json.loads(invoke("models", "verify", "credit/1", "--json")[1])
    assert (report["signed"], report["key_id"]) == (True, key_id)
    code, out, _ = invoke("models", "ls", "credit")
    assert key_id in next(line for line in out.splitlines() if "credit/1" in line)

    # registered from now on: signed at once
    code, out, err = invoke("models", "register", "models:/credit/1", "credit")
    assert code == 0, err
    assert out.strip().endswith(f", signed by {key_id})")
    assert mloop.models.get_version("credit/2").signing_key_id == key_id

    # a revoked key's signatures no longer verify, and there is nothing left to sign with
    invoke("keys", "revoke", key_id)
    code, _, err = invoke("models", "verify", "credit/2")
    assert code == 6 and err.startswith("error: ") and "does not trust" in err
    code, _, err = invoke("models", "sign", "credit/2")
    assert code == 6 and f"({key_id}) is not trusted by this project" in err


def test_init_names_the_served_versions_it_leaves_unsigned_and_signs_them_on_request(
    home: Path,
) -> None:
    frame = credit_frame(120)
    log_and_register(fit_classifier(frame), frame)
    log_and_register(fit_classifier(frame), frame)
    invoke("models", "alias", "credit", "champion", "1")
    code, _, err = invoke("keys", "init")
    assert code == 0
    assert "warning:" in err and "credit/1 (champion)" in err and "--sign-existing" in err
    assert "credit/2" not in err  # only what an alias serves is named
    code, out, err = invoke("keys", "init", "--sign-existing")
    assert code == 0, err
    assert "signed 2 existing version(s): credit/1, credit/2" in out
    mloop.models.clear_cache()
    mloop.models.load("models:/credit@champion")
    code, _, err = invoke("keys", "init")  # nothing left to sign: the key is trusted already
    assert code == AlreadyExists.exit_code and "already trusted" in err
