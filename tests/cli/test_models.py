"""``mloop models``: the registry, aliases, governance, gates and cards, run as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import mloop
from mloop.cli.app import app
from mloop.errors import EXIT_INTERRUPTED, Conflict
from mloop.models.backend import backend
from mloop.models.package import MANIFEST
from tests.cli.conftest import ANSI, invoke, run_mloop
from tests.models.conftest import (
    FEATURES,
    corrupt_object,
    credit_frame,
    fit_classifier,
    log_and_register,
)

RULE = "roc_auc >= champion.roc_auc - 0.005"


@pytest.fixture
def frame() -> pd.DataFrame:
    return credit_frame(120)


@pytest.fixture
def two(home: Path, frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> pd.DataFrame:
    """credit/1 and credit/2, registered by ana."""
    monkeypatch.setenv("MLOOP_USER", "ana")
    log_and_register(fit_classifier(frame, 1.0), frame)
    log_and_register(fit_classifier(frame, 0.01), frame)
    return frame


@pytest.fixture
def csv(two: pd.DataFrame, tmp_path: Path) -> Path:
    """The credit data as a CSV file, for gates."""
    path = tmp_path / "eval.csv"
    two.to_csv(path, index=False)
    return path


def _answer(answer: str, *args: str) -> tuple[int, str]:
    """Run ``mloop *args`` in-process, typing ``answer`` at its prompt; code and output."""
    result = CliRunner().invoke(
        app, list(args), prog_name="mloop", input=answer, env={"COLUMNS": "200"}
    )
    return result.exit_code, ANSI.sub("", result.output)


def bo() -> dict[str, str]:
    return {"MLOOP_USER": "bo"}


def cy() -> dict[str, str]:
    return {"MLOOP_USER": "cy"}


def _gate(csv: Path, candidate: str, *rules: str, against: str = "credit@champion") -> list[str]:
    args = ["models", "gate", candidate, "--against", against, "--data", str(csv)]
    args += ["--target", "label"]
    for rule in rules:
        args += ["--rule", rule]
    return args


# -- ls, show, register ---------------------------------------------------------------------------


def test_ls_empty_then_with_models(home: Path, frame: pd.DataFrame) -> None:
    mloop.Client()  # an empty store: read-only commands never create one
    code, out, err = invoke("models", "ls")
    assert code == 0, err
    assert "Models" in out and "credit" not in out
    assert json.loads(invoke("models", "ls", "--json")[1]) == []

    log_and_register(fit_classifier(frame), frame)
    log_and_register(fit_classifier(frame, 0.01), frame)
    invoke("models", "alias", "credit", "champion", "1")
    code, out, _ = invoke("models", "ls")
    assert code == 0
    row = next(line for line in out.splitlines() if "credit" in line)
    assert "│ 2 " in row and "champion=1" in row

    code, out, _ = invoke("models", "ls", "--json")
    (listed,) = json.loads(out)
    assert listed["name"] == "credit"
    assert listed["latest_version"] == 2
    assert listed["aliases"] == {"champion": 1}
    assert {"owner", "description", "created_time", "updated_time", "tags"} <= set(listed)

    code, out, _ = invoke("models", "ls", "credit")
    assert code == 0
    assert "Versions of credit" in out
    assert "credit/1" in out and "credit/2" in out and "sklearn" in out

    code, out, _ = invoke("models", "ls", "credit", "--json")
    versions = json.loads(out)
    assert [(v["name"], v["version"], v["status"]) for v in versions] == [
        ("credit", 1, "READY"),
        ("credit", 2, "READY"),
    ]
    assert versions[0]["aliases"] == ["champion"]
    assert all(len(v["digest"]) == 64 and v["flavor"] == "sklearn" for v in versions)

    code, _, err = invoke("models", "ls", "nope")
    assert code == 3 and "registered model 'nope' not found" in err


def test_show_a_model_a_version_and_an_alias(two: pd.DataFrame, tmp_path: Path) -> None:
    mloop.models.save(fit_classifier(two, 0.1), tmp_path / "pkg", input_example=two[FEATURES][:3])
    mloop.models.register(tmp_path / "pkg", "credit")
    assert invoke("models", "alias", "credit", "champion", "2")[0] == 0

    code, out, err = invoke("models", "show", "credit")
    assert code == 0, err
    assert "Model credit" in out and "champion=2" in out
    assert all(f"credit/{v}" in out for v in (1, 2, 3))
    shown = json.loads(invoke("models", "show", "credit", "--json")[1])
    assert shown["model"]["name"] == "credit"
    assert [v["version"] for v in shown["versions"]] == [1, 2, 3]
    assert shown["protections"] == []

    code, out, _ = invoke("models", "show", "credit/3")
    assert code == 0
    version = mloop.models.get_version("credit/3")
    assert "Model version credit/3" in out and version.digest in out
    shown = json.loads(invoke("models", "show", "credit/3", "--json")[1])
    assert (shown["version"]["version"], shown["version"]["source"]) == (3, str(tmp_path / "pkg"))
    assert (shown["decisions"], shown["gates"]) == ([], [])

    code, out, _ = invoke("models", "show", "credit@champion")
    assert code == 0 and "Model version credit/2" in out and "champion" in out
    shown = json.loads(invoke("models", "show", "credit@champion", "--json")[1])
    assert (shown["version"]["version"], shown["version"]["aliases"]) == (2, ["champion"])

    for ref, status, message in [
        ("credit/9", 3, "model 'credit' has no version 9"),
        ("credit@nobody", 3, "no alias 'nobody'"),
        ("nope", 3, "registered model 'nope' not found"),
        ("credit/x", 2, "version number"),
        ("bad name", 2, "invalid model name"),
    ]:
        code, out, err = invoke("models", "show", ref)
        assert (code, out) == (status, ""), ref
        assert err.startswith("error: ") and message in err, err


def test_register_from_a_run_and_from_a_folder(
    home: Path, frame: pd.DataFrame, tmp_path: Path
) -> None:
    model = fit_classifier(frame)
    with mloop.start_run():
        info = mloop.models.log_model(model, "model", input_example=frame[FEATURES][:3])
    code, out, err = invoke("models", "register", info.model_uri, "credit", "-d", "first")
    assert code == 0, err
    assert out.strip() == f"registered credit/1 (sklearn, {info.digest[:12]})"
    version = mloop.models.get_version("credit/1")
    assert (version.run_id, version.description) == (info.run_id, "first")

    mloop.models.save(model, tmp_path / "pkg", input_example=frame[FEATURES][:3])
    code, out, err = invoke("models", "register", str(tmp_path / "pkg"), "credit", "--json")
    assert code == 0, err
    registered = json.loads(out)
    assert (registered["version"], registered["source"]) == (2, str(tmp_path / "pkg"))
    assert registered["run_id"] is None  # a saved folder comes from no run
    assert mloop.models.load("models:/credit/2").predict(frame[FEATURES][:2]).shape == (2,)

    for uri, name, status, message in [
        (str(tmp_path / "missing"), "credit", 3, "is not a model package"),
        ("s3://bucket/model", "credit", 2, "unsupported model URI"),
        ("runs:/short/model", "credit", 2, "32-hex run id"),
        (f"runs:/{info.run_id}/elsewhere", "credit", 3, "no model package at 'elsewhere'"),
        (str(tmp_path / "pkg"), "bad name", 2, "invalid model name"),
    ]:
        code, _, err = invoke("models", "register", uri, name)
        assert code == status, (uri, err)
        assert err.startswith("error: ") and message in err
    assert [v.version for v in mloop.models.list_versions("credit")] == [1, 2]


# -- aliases, rollback, history -------------------------------------------------------------------


def test_alias_set_move_and_delete(two: pd.DataFrame) -> None:
    code, out, err = invoke("models", "alias", "credit", "champion", "1")
    assert code == 0, err
    assert out.strip() == "credit@champion: (none) -> 1  (set)"
    code, out, _ = invoke("models", "alias", "credit", "champion", "1")
    assert (code, out.strip()) == (0, "credit@champion already points at version 1")
    code, out, _ = invoke("models", "alias", "credit", "champion", "2", "--reason", "retrained")
    assert (code, out.strip()) == (0, "credit@champion: 1 -> 2  (set)")
    assert mloop.models.get_model("credit").aliases == {"champion": 2}

    code, out, _ = invoke("models", "alias", "credit", "champion", "--delete", "-r", "recall")
    assert (code, out.strip()) == (0, "credit@champion: 2 -> (deleted)  (delete)")
    assert mloop.models.get_model("credit").aliases == {}

    code, out, err = invoke("models", "alias", "credit", "champion")
    assert (code, out) == (2, "")
    assert "give a VERSION, or --delete to remove the alias" in err
    code, _, err = invoke("models", "alias", "credit", "champion", "1", "--delete")
    assert code == 2 and "give a VERSION, or --delete" in err

    for args, status, message in [
        (("champion", "--delete"), 3, "model 'credit' has no alias 'champion'"),
        (("champion", "9"), 3, "model 'credit' has no version 9"),
        (("champion", "0"), 2, "a version number is an int from 1"),
        (("latest", "1"), 2, "'latest' is reserved"),
        (("1st", "1"), 2, "invalid alias '1st'"),
    ]:
        code, _, err = invoke("models", "alias", "credit", *args)
        assert code == status, (args, err)
        assert err.startswith("error: ") and message in err
    code, _, err = invoke("models", "alias", "nope", "champion", "1")
    assert code == 3 and "registered model 'nope' not found" in err
    assert mloop.models.get_model("credit").aliases == {}


def test_rollback_and_history(two: pd.DataFrame) -> None:
    code, out, err = invoke("models", "rollback", "credit", "champion")
    assert (code, out) == (Conflict.exit_code, "")
    assert "alias 'champion' of model 'credit' has no earlier version to roll back to" in err

    invoke("models", "alias", "credit", "champion", "1", "-r", "first release")
    invoke(
        "models", "alias", "credit", "champion", "2", "-r", "retrained", env={"MLOOP_USER": "bo"}
    )
    invoke("models", "alias", "credit", "challenger", "2")
    code, out, err = invoke("models", "rollback", "credit", "champion", "-r", "drift")
    assert code == 0, err
    assert out.strip() == "credit@champion: 2 -> 1  (rollback)"
    assert mloop.models.get_model("credit").aliases == {"champion": 1, "challenger": 2}
    code, _, err = invoke("models", "rollback", "credit", "champion")
    assert code == Conflict.exit_code and "no earlier version" in err

    code, out, _ = invoke("models", "history", "credit")
    assert code == 0 and "Alias history of credit" in out
    rows = [line for line in out.splitlines() if "champion" in line or "challenger" in line]
    assert len(rows) == 4
    assert "first release" in rows[0] and "retrained" in rows[1] and "bo" in rows[1]
    assert "rollback" in rows[3] and "drift" in rows[3]

    code, out, _ = invoke("models", "history", "credit", "champion", "--json")
    changes = json.loads(out)
    assert [(c["action"], c["from_version"], c["to_version"]) for c in changes] == [
        ("set", None, 1),
        ("set", 1, 2),
        ("rollback", 2, 1),
    ]
    assert [c["actor"] for c in changes] == ["ana", "bo", "ana"]
    assert [c["reason"] for c in changes] == ["first release", "retrained", "drift"]
    assert json.loads(invoke("models", "history", "credit", "nobody", "--json")[1]) == []

    code, _, err = invoke("models", "history", "nope")
    assert code == 3 and "not found" in err
    code, _, err = invoke("models", "history", "credit", "latest")
    assert code == 2 and "reserved" in err


# -- archive, delete, describe ---------------------------------------------------------------------


def test_archive_and_restore(two: pd.DataFrame) -> None:
    code, out, err = invoke("models", "archive", "credit", "1")
    assert (code, out.strip()) == (0, "credit/1 is ARCHIVED"), err
    code, out, _ = invoke("models", "ls", "credit")
    assert "ARCHIVED" in next(line for line in out.splitlines() if "credit/1" in line)
    code, _, err = invoke("models", "alias", "credit", "champion", "1")
    assert (
        code == Conflict.exit_code
        and "credit/1 is archived; restore it before it takes alias" in err
    )

    code, out, _ = invoke("models", "archive", "credit", "1", "--restore")
    assert (code, out.strip()) == (0, "credit/1 is READY")
    assert invoke("models", "alias", "credit", "champion", "1")[0] == 0

    code, out, err = invoke("models", "archive", "credit", "1")
    assert (code, out) == (Conflict.exit_code, "")
    assert "credit/1 holds alias(es) ['champion']; move them before archiving it" in err
    assert mloop.models.get_version("credit/1").status.value == "READY"

    code, _, err = invoke("models", "archive", "credit", "9")
    assert code == 3 and "no version 9" in err
    code, _, err = invoke("models", "archive", "credit", "one")
    assert code == 2 and "Invalid value for 'version'" in err


def test_delete_versions_and_models(two: pd.DataFrame) -> None:
    code, out, err = invoke("models", "delete", "credit/1")
    assert (code, out.strip()) == (0, "deleted credit/1"), err
    assert invoke("models", "show", "credit/1")[0] == 3
    code, _, err = invoke("models", "delete", "credit/1")
    assert code == 3 and "no version 1" in err

    invoke("models", "alias", "credit", "champion", "2")
    code, out, err = invoke("models", "delete", "credit@champion")
    assert (code, out) == (2, "")
    assert "name the version to delete by number, e.g. credit/3" in err
    code, _, err = invoke("models", "delete", "credit/2")
    assert code == Conflict.exit_code and "holds alias(es) ['champion']" in err
    code, _, err = invoke("models", "delete", "credit", "--yes")
    assert code == Conflict.exit_code and "still has alias(es) ['champion']" in err
    invoke("models", "alias", "credit", "champion", "--delete")

    code, out = _answer("n\n", "models", "delete", "credit")
    assert code == EXIT_INTERRUPTED
    assert "delete model 'credit' and all its versions? [y/N]" in out
    assert mloop.models.get_model("credit").latest_version == 2  # kept
    code, out = _answer("", "models", "delete", "credit")  # no answer at all: nothing deleted
    assert code == EXIT_INTERRUPTED
    assert mloop.models.get_model("credit").name == "credit"

    code, out = _answer("y\n", "models", "delete", "credit")
    assert code == 0 and "deleted model credit" in out
    assert json.loads(invoke("models", "ls", "--json")[1]) == []

    log_and_register(fit_classifier(two), two)
    code, out, err = invoke("models", "delete", "credit", "--yes")
    assert (code, out.strip()) == (0, "deleted model credit"), err
    code, _, err = invoke("models", "delete", "credit", "--yes")
    assert code == 3 and "registered model 'credit' not found" in err
    code, _, err = invoke("models", "delete", "credit/0")
    assert code == 2 and "version number" in err


def test_delete_name_slash_latest_does_not_delete_the_whole_model(two: pd.DataFrame) -> None:
    code, _, err = invoke("models", "delete", "credit/latest", "--yes")
    assert code == 2
    assert "by number" in err
    assert mloop.models.get_version("credit/1").version == 1


def test_describe(two: pd.DataFrame) -> None:
    code, out, err = invoke(
        "models",
        "describe",
        "credit",
        "-d",
        "Credit risk scorer",
        "--intended-use",
        "Pre-screening loan applications",
        "--limitations",
        "Not for thin-file applicants",
    )
    assert (code, out.strip()) == (0, "updated model credit"), err
    model = mloop.models.get_model("credit")
    assert model.description == "Credit risk scorer"
    code, out, _ = invoke("models", "show", "credit")
    assert "Credit risk scorer" in out
    assert "tag mloop.card.intended_use" in out and "Pre-screening loan applications" in out
    card = invoke("models", "card", "credit/1")[1]
    assert "Pre-screening loan applications" in card and "Not for thin-file applicants" in card

    code, _, err = invoke("models", "describe", "nope", "-d", "x")
    assert code == 3 and "registered model 'nope' not found" in err


# -- verify, sign ---------------------------------------------------------------------------------


def _corrupt_a_stored_file(name: str, version: int) -> None:
    """Flip one byte of a file of this version only, where the content store keeps it."""
    full = backend().stores.models.get_version(name, version, with_files=True)
    shared = {
        f.digest
        for v in mloop.models.list_versions(name)
        if v.version != version
        for f in backend().stores.models.get_version(name, v.version, with_files=True).files
    }
    target = next(f for f in full.files if f.path != MANIFEST and f.digest not in shared)
    corrupt_object(target.digest)


def test_verify_and_a_corrupted_store(two: pd.DataFrame) -> None:
    version = mloop.models.get_version("credit/1")
    code, out, err = invoke("models", "verify", "credit/1")
    assert code == 0, err
    assert out.startswith("credit/1: 2 file(s), ")
    assert out.strip().endswith(f"bytes match digest {version.digest[:12]}; not signed")
    invoke("models", "alias", "credit", "champion", "1")
    report = json.loads(invoke("models", "verify", "credit@champion", "--json")[1])
    assert (report["ref"], report["digest"], report["files"]) == ("credit/1", version.digest, 2)
    assert (report["signed"], report["key_id"]) == (False, None)
    assert report["bytes"] > 0

    _corrupt_a_stored_file("credit", 1)
    code, out, err = invoke("models", "verify", "credit/1")
    assert (code, out) == (6, "")
    assert err.startswith("error: ")
    assert invoke("models", "verify", "credit/2")[0] == 0  # the other version is untouched

    code, _, err = invoke("models", "verify", "credit/9")
    assert code == 3 and "no version 9" in err


def test_sign_without_a_key(two: pd.DataFrame) -> None:
    code, out, err = invoke("models", "sign", "credit/1")
    assert (code, out) == (3, "")
    assert "there is no signing key to sign with; create one with mloop keys init" in err
    assert mloop.models.get_version("credit/1").signing_key_id is None
    code, _, err = invoke("models", "sign", "credit@nobody")
    assert code == 3 and "no alias 'nobody'" in err


# -- governance -----------------------------------------------------------------------------------


def test_governance_by_cli(two: pd.DataFrame, csv: Path) -> None:
    code, out, err = invoke(
        "models", "protect", "credit", "champion", "--approvals", "1", "--gate", RULE
    )
    assert code == 0, err
    assert out.strip() == (
        f"credit@champion now needs 1 approval(s) and a passed gate with ['{RULE}']"
    )
    code, out, _ = invoke("models", "show", "credit")
    assert "Protected aliases" in out and RULE in out

    code, out, err = invoke("models", "alias", "credit", "champion", "1")
    assert (code, out) == (5, "")
    assert "credit/1 may not become credit@champion: it still needs" in err
    assert "1 approval(s) (has 0)" in err
    assert f"a passed gate with rule(s) ['{RULE}']" in err

    code, out, err = invoke("models", "approve", "credit", "1", "-m", "card read", env=bo())
    assert (code, out.strip()) == (0, "credit/1 approved by bo"), err
    code, out, _ = invoke("models", "reject", "credit", "1", "-m", "thin files", env=cy())
    assert (code, out.strip()) == (0, "credit/1 rejected by cy")
    code, out, err = invoke(*_gate(csv, "credit/1", RULE))
    assert code == 0, err
    assert "skipped: no baseline to compare with" in out

    code, _, err = invoke("models", "alias", "credit", "champion", "1", env=bo())
    assert code == 5
    assert "no standing rejection (rejected by cy: thin files)" in err
    assert "approval(s)" not in err and "a passed gate" not in err  # those are met

    assert invoke("models", "approve", "credit", "1", "-m", "fixed", env=cy())[0] == 0
    code, out, err = invoke("models", "alias", "credit", "champion", "1", "-r", "go", env=bo())
    assert (code, out.strip()) == (0, "credit@champion: (none) -> 1  (set)"), err
    assert mloop.models.get_model("credit").aliases == {"champion": 1}

    code, out, _ = invoke("models", "show", "credit/1")
    assert "Decisions" in out and "thin files" in out and "Gates" in out
    shown = json.loads(invoke("models", "show", "credit/1", "--json")[1])
    assert [(d["actor"], d["decision"]) for d in shown["decisions"]] == [
        ("bo", "approved"),
        ("cy", "rejected"),
        ("cy", "approved"),
    ]
    assert [g["passed"] for g in shown["gates"]] == [True]

    # credit/2, approved by its own author only, and gated against nothing
    invoke("models", "approve", "credit", "2")
    code, _, err = invoke("models", "alias", "credit", "champion", "2")
    assert code == 5
    assert "an approval by someone other than the version's author 'ana'" in err
    assert f"a passed gate against version 1 with rule(s) ['{RULE}']" in err

    code, out, err = invoke("models", "protect", "credit", "champion", "--remove")
    assert (code, out.strip()) == (0, "credit@champion is no longer protected"), err
    assert invoke("models", "alias", "credit", "champion", "2")[0] == 0
    code, _, err = invoke("models", "protect", "credit", "champion", "--remove")
    assert code == 3 and "error: " in err


def test_bad_governance_input(two: pd.DataFrame) -> None:
    for args, status, message in [
        (("protect", "credit", "champion", "--gate", "roc_auc >>= 1"), 2, "does not parse"),
        (("protect", "credit", "champion", "--gate", "roc_auc"), 2, "must be one comparison"),
        (("protect", "credit", "champion", "-g", "auc >= len(x)"), 2, "is none of these"),
        (("protect", "credit", "champion", "--approvals", "0"), 2, "approvals >= 1 or at least"),
        (("protect", "credit", "champion", "--approvals", "-1"), 2, "whole number >= 0"),
        (("protect", "credit", "latest"), 2, "'latest' is reserved"),
        (("protect", "nope", "champion"), 3, "registered model 'nope' not found"),
        (("approve", "credit", "9"), 3, "no version 9"),
        (("reject", "nope", "1", "-m", "no"), 3, "not found"),
    ]:
        code, out, err = invoke("models", *args)
        assert (code, out) == (status, ""), args
        assert err.startswith("error: ") and message in err, err
    assert mloop.models.protections("credit") == []
    assert mloop.models.decisions("credit", 1) == []


# -- gates ----------------------------------------------------------------------------------------


def test_gate_passes_and_fails(two: pd.DataFrame, csv: Path) -> None:
    invoke("models", "alias", "credit", "champion", "1")
    code, out, err = invoke(
        *_gate(csv, "credit/2", "accuracy >= 0.5", "roc_auc >= champion.roc_auc - 0.5")
    )
    assert code == 0, err
    title = f"Gate: credit/2 against credit/1 on file:{csv}"
    assert "".join(title.split()) in "".join(out.split())  # the title may wrap anywhere
    rows = [line for line in out.splitlines() if ">=" in line]
    assert len(rows) == 2 and all("pass" in row for row in rows)
    assert out.strip().endswith("gate PASSED")

    code, out, err = invoke(*_gate(csv, "credit/2", "accuracy >= 0.5", "accuracy >= 0.999"))
    assert (code, err) == (1, "")
    assert "FAIL" in next(line for line in out.splitlines() if "0.999" in line)
    assert "pass" in next(line for line in out.splitlines() if "0.5 " in line)
    assert out.strip().endswith("gate FAILED")

    code, out, _ = invoke(*_gate(csv, "credit/2", "accuracy >= 0.5"), "--json")
    assert code == 0
    result = json.loads(out)
    assert (result["candidate"], result["baseline"], result["passed"]) == (
        "credit/2",
        "credit/1",
        True,
    )
    (rule,) = result["rules"]
    assert (rule["rule"], rule["passed"], rule["threshold"]) == ("accuracy >= 0.5", True, 0.5)
    assert 0.5 <= rule["value"] <= 1
    assert result["data"] == f"file:{csv}"

    code, out, _ = invoke(*_gate(csv, "credit@champion", "accuracy >= 0.999"), "--json")
    assert code == 1
    result = json.loads(out)
    assert result["passed"] is False and result["rules"][0]["passed"] is False

    shown = json.loads(invoke("models", "show", "credit/2", "--json")[1])
    assert [g["passed"] for g in shown["gates"]] == [True, False, True]  # newest first


def test_gate_against_an_alias_not_set_yet(two: pd.DataFrame, csv: Path) -> None:
    code, out, err = invoke(
        *_gate(csv, "credit/2", "accuracy >= champion.accuracy", "accuracy >= 0.5")
    )
    assert code == 0, err
    assert "against none yet" in out
    skipped = next(line for line in out.splitlines() if "champion.accuracy" in line)
    assert "skipped: no baseline to compare with" in skipped
    result = json.loads(
        invoke(*_gate(csv, "credit/2", "accuracy >= champion.accuracy"), "--json")[1]
    )
    assert result["baseline"] is None and result["passed"] is True
    assert result["rules"][0]["note"] == "skipped: no baseline to compare with"


def test_gate_on_a_dataset_reference(two: pd.DataFrame, csv: Path) -> None:
    code, out, err = invoke("data", "add", str(csv), "--name", "credit-eval")
    assert code == 0, err
    code, out, err = invoke(
        "models", "gate", "credit/2", "--data", "credit-eval@1", "--target", "label",
        "--rule", "accuracy >= 0.5", "--json",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    assert (result["data"], result["baseline"], result["passed"]) == ("credit-eval@1", None, True)


def test_gate_errors(two: pd.DataFrame, csv: Path) -> None:
    for change, status, message in [
        ({"rule": "nosuch >= 1"}, 2, "available: accuracy, brier, f1, log_loss"),
        ({"rule": "accuracy >= other.accuracy"}, 2, "names 'other'"),
        ({"rule": "accuracy"}, 2, "must be one comparison"),
        ({"target": "nolabel"}, 2, "target column 'nolabel' is not in the data"),
        ({"candidate": "credit/9"}, 3, "no version 9"),
        ({"against": "other@champion"}, 3, "registered model 'other' not found"),
        ({"against": "credit/9"}, 3, "no version 9"),
        ({"data": "nothing-here@1"}, 3, "not found"),
    ]:
        options = {"candidate": "credit/2", "against": "credit@champion", "target": "label"}
        options |= {"rule": "accuracy >= 0.5", "data": str(csv)} | change
        code, out, err = invoke(
            "models", "gate", options["candidate"], "--against", options["against"],
            "--data", options["data"], "--target", options["target"], "--rule", options["rule"],
        )  # fmt: skip
        assert (code, out) == (status, ""), change
        assert err.startswith("error: ") and message in err, err
    assert mloop.models.gate_results("credit", 2) == []


def test_gate_needs_data_a_target_and_rules(two: pd.DataFrame, tmp_path: Path) -> None:
    code, _, err = invoke("models", "gate", "credit/2", "--target", "label", "--rule", "f1 > 0")
    assert code == 2 and "--data" in err
    code, _, err = invoke("models", "gate", "credit/2", "--data", "x.csv", "--target", "label")
    assert code == 2 and "--rule" in err
    (tmp_path / "junk.csv").write_text("")
    code, _, err = invoke(
        "models", "gate", "credit/2", "--data", str(tmp_path / "junk.csv"),
        "--target", "label", "--rule", "f1 > 0",
    )  # fmt: skip
    assert code == 2 and err.startswith("error: ")


# -- cards ----------------------------------------------------------------------------------------


def test_card(two: pd.DataFrame, csv: Path, tmp_path: Path) -> None:
    invoke("models", "describe", "credit", "-d", "Credit risk scorer")
    code, _, err = invoke(
        *_gate(csv, "credit/2", "accuracy >= 0.5"), "--slice", "region", "--sensitive", "sex"
    )
    assert code == 0, err
    invoke("models", "approve", "credit", "2", "-m", "looks fair", env=bo())
    invoke("models", "alias", "credit", "champion", "2")

    code, out, err = invoke("models", "card", "credit@champion")
    assert code == 0, err
    assert out.startswith("# Model card: credit/2")
    for section in (
        "## Intended use",
        "## Training data",
        "## Evaluation",
        "### By region",
        "## Fairness",
        "### sex",
        "## Lineage",
        "## Gates",
        "## Approvals",
    ):
        assert f"\n{section}" in out, section
    assert "Credit risk scorer" in out
    assert f"Data: file:{csv}" in out
    approvals = out.split("## Approvals")[1]
    assert "bo" in approvals and "looks fair" in approvals
    run_id = mloop.models.get_version("credit/2").run_id
    assert f"run {run_id} → model credit/2" in out.split("## Lineage")[1]

    code, out, _ = invoke("models", "card", "credit/2", "--json")
    assert code == 0
    card = json.loads(out)
    assert card["model"]["ref"] == "credit/2" and card["model"]["aliases"] == ["champion"]
    assert card["evaluation"]["data"] == f"file:{csv}"
    assert {"accuracy", "roc_auc"} <= set(card["evaluation"]["metrics"])
    assert set(card["evaluation"]["slices"]["region"]) == {"north", "south"}
    assert "sex" in card["fairness"]
    assert card["lineage"]["model_version"] == "credit/2"
    assert [(a["actor"], a["decision"]) for a in card["approvals"]] == [("bo", "approved")]

    target = tmp_path / "card.md"
    code, out, err = invoke("models", "card", "credit/2", "-o", str(target))
    assert code == 0, err
    assert "model card of credit/2 written to" in out and "card.md" in out
    assert target.read_text().startswith("# Model card: credit/2")
    assert "## Approvals" in target.read_text()
    code, _, _ = invoke("models", "card", "credit/2", "--json", "--out", str(tmp_path / "c.json"))
    assert code == 0
    assert json.loads((tmp_path / "c.json").read_text())["model"]["version"] == 2

    # a version never gated nor approved still has a card, saying so
    code, out, _ = invoke("models", "card", "credit/1")
    assert code == 0 and "_not evaluated_" in out
    assert out.split("## Approvals")[1].strip() == "_none_"

    code, _, err = invoke("models", "card", "credit/9")
    assert code == 3 and "no version 9" in err


def test_card_out_into_a_new_folder_creates_it(two: pd.DataFrame, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "card.md"
    code, _, err = invoke("models", "card", "credit/1", "-o", str(target))
    assert code == 0, err
    assert target.read_text().startswith("# Model card: credit/1")


def test_card_out_onto_a_folder_is_refused(two: pd.DataFrame, tmp_path: Path) -> None:
    code, _, err = invoke("models", "card", "credit/1", "-o", str(tmp_path))
    assert code == 2
    assert err.startswith("error: cannot write the model card to")


# -- the installed console script -----------------------------------------------------------------


def test_console_script(home: Path, frame: pd.DataFrame) -> None:
    log_and_register(fit_classifier(frame), frame)
    result = run_mloop("models", "ls", "--json")
    assert result.returncode == 0, result.stderr
    (listed,) = json.loads(result.stdout)
    assert (listed["name"], listed["latest_version"]) == ("credit", 1)
    missing = run_mloop("models", "show", "nope")
    assert missing.returncode == 3
    assert "error: registered model 'nope' not found" in missing.stderr
