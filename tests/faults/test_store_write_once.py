"""Faults: processes racing to create a file that must be written once (identity, key, store).

The pseudonymization key once had a fallback, for file systems without hard
links, that let a second process replace the key the first had already used.
"""

from __future__ import annotations

import os
from pathlib import Path

from mloop.disk import write_once
from tests.faults.processes import TIMEOUT, start_python

_CREATOR = """
import errno, os, pathlib, time

from mloop.data.secret import project_secret

me, other = os.environ["ME"], os.environ["OTHER"]
meet = pathlib.Path(os.environ["MEET"])


def wait_for(name):
    deadline = time.monotonic() + 20
    while not (meet / name).exists():
        assert time.monotonic() < deadline, f"{name} never came"
        time.sleep(0.001)


def no_hard_links(src, dst, **kwargs):
    # Both processes try to link at the same moment, on a file system without links.
    (meet / f"link-{me}").touch()
    wait_for(f"link-{other}")
    raise OSError(errno.EPERM, "Operation not permitted", dst)


real_replace = os.replace


def replace(src, dst):
    # The old fallback's race, made certain: 0 replaces and reads its key, then 1 replaces.
    (meet / f"replace-{me}").touch()
    wait_for("replace-1" if me == "0" else "read-0")
    real_replace(src, dst)


os.link = no_hard_links
os.replace = replace
key = project_secret(pathlib.Path(os.environ["KEY_HOME"]))
(meet / f"read-{me}").touch()
print(key.decode())
"""


def test_two_processes_creating_the_key_without_hard_links_get_one_key(tmp_path: Path) -> None:
    meet = tmp_path / "meet"
    meet.mkdir()
    env = {"MEET": str(meet), "KEY_HOME": str(tmp_path / "home"), "MLOOP_SECRET_KEY": ""}
    creators = [
        start_python(_CREATOR, cwd=tmp_path, env={**env, "ME": me, "OTHER": other})
        for me, other in (("0", "1"), ("1", "0"))
    ]
    keys = []
    for creator in creators:
        out, err = creator.communicate(timeout=TIMEOUT)
        assert creator.returncode == 0, err
        keys.append(out.strip())
    on_disk = (tmp_path / "home" / "secret.key").read_text().strip()
    assert keys == [on_disk, on_disk]
    assert (tmp_path / "home" / "secret.key").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in (tmp_path / "home").iterdir()) == ["secret.key"]


def test_write_once_never_replaces_a_file(tmp_path: Path) -> None:
    path = tmp_path / "a" / "id.json"
    assert write_once(path, b"first")
    assert not write_once(path, b"second")
    assert path.read_bytes() == b"first"
    assert os.listdir(path.parent) == ["id.json"]  # no temporary file left behind
