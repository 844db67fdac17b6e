"""Hostile links in a data folder, and a readable pseudonymization key (issue 10, item 15)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import mloop
from mloop.data.secret import project_secret
from mloop.errors import InvalidInput, PermissionDenied
from tests.cli.conftest import invoke

pytestmark = pytest.mark.skipif(os.name != "posix", reason="symbolic links and modes")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "raw"
    (root / "sub").mkdir(parents=True)
    (root / "a.csv").write_text("x\n1\n")
    (root / "sub" / "b.csv").write_text("x\n2\n")
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    target = tmp_path / "elsewhere" / "hostname"
    target.parent.mkdir()
    target.write_text("build-host-17\n")
    return target


def _stored(name: str) -> dict[str, str]:
    folder = mloop.data.get(f"{name}@latest").path
    return {
        p.relative_to(folder).as_posix(): p.read_text()
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }


def test_link_out_of_the_folder_is_refused(home: Path, folder: Path, outside: Path) -> None:
    (folder / "host").symlink_to(outside)
    code, out, err = invoke("data", "add", str(folder), "--name", "raw")
    assert code == 2, (out, err)
    message = " ".join(err.split())
    assert str(folder / "host") in message and str(outside) in message
    assert "--follow-links" in message
    code, out, _ = invoke("data", "ls", "--json")
    assert (code, out) == (3, "") or json.loads(out) == []  # no store, or a store with no dataset


def test_folder_link_out_of_the_folder_is_refused(home: Path, folder: Path, outside: Path) -> None:
    (folder / "etc").symlink_to(outside.parent, target_is_directory=True)
    with pytest.raises(InvalidInput, match="outside the folder"):
        mloop.data.add(folder, "raw")


def test_following_links_is_a_choice(home: Path, folder: Path, outside: Path) -> None:
    (folder / "host").symlink_to(outside)
    code, _, err = invoke("data", "add", str(folder), "--name", "raw", "--follow-links")
    assert code == 0, err
    assert _stored("raw")["host"] == "build-host-17\n"


def test_links_inside_the_folder_store_their_content(home: Path, folder: Path) -> None:
    (folder / "latest.csv").symlink_to(folder / "a.csv")
    (folder / "alias").symlink_to(Path("sub"), target_is_directory=True)  # relative
    mloop.data.add(folder, "raw")
    assert _stored("raw") == {
        "a.csv": "x\n1\n",
        "latest.csv": "x\n1\n",
        "sub/b.csv": "x\n2\n",
        "alias/b.csv": "x\n2\n",
    }


@pytest.mark.parametrize("shape", ["self", "pair", "ancestor", "root"])
def test_link_loops_are_clear_errors(home: Path, folder: Path, shape: str) -> None:
    path = folder
    if shape == "self":
        (folder / "me").symlink_to("me")
    elif shape == "pair":
        (folder / "b").symlink_to("c")
        (folder / "c").symlink_to("b")
    elif shape == "ancestor":
        (folder / "sub" / "up").symlink_to("..", target_is_directory=True)
    else:
        path = folder.parent / "loop"
        path.symlink_to("loop")
    with pytest.raises(InvalidInput, match="symbolic link loop") as caught:
        mloop.data.add(path, "raw")
    assert "remove" in str(caught.value)
    code, _, err = invoke("data", "add", str(path), "--name", "raw")
    assert code == 2 and "symbolic link loop" in err


def test_broken_link_names_its_target(home: Path, folder: Path) -> None:
    (folder / "gone").symlink_to(folder / "missing.csv")
    with pytest.raises(InvalidInput, match="broken symbolic link") as caught:
        mloop.data.add(folder, "raw")
    assert "missing.csv" in str(caught.value)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_readable_pseudonymization_key_is_refused(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: int
) -> None:
    monkeypatch.delenv("MLOOP_SECRET_KEY", raising=False)
    data = tmp_path / "people.csv"
    data.write_text("email,age\na@x.org,3\n")
    project_secret(home)  # made once, private
    key = home / "secret.key"
    assert key.stat().st_mode & 0o777 == 0o600
    key.chmod(mode)
    with pytest.raises(PermissionDenied, match=f"chmod 600 {key}"):
        mloop.data.add(data, "people", pseudonymize=["email"])
    code, _, err = invoke("data", "add", str(data), "--name", "people", "--pseudonymize", "email")
    assert code == 5 and "readable by other users" in err
    key.chmod(0o600)
    assert mloop.data.add(data, "people", pseudonymize=["email"]).version == 1
