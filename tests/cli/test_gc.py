from __future__ import annotations

import hashlib
import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import mloop
from mloop.artifacts.cas import ContentStore
from mloop.errors import NotFound
from tests.cli.conftest import MLOOP, invoke

SHARED = b"shared by both runs"
KEPT = b"only the kept run"
DROPPED = b"only the deleted run"
ORPHAN = b"o" * 1500
FREED = len(DROPPED) + len(ORPHAN)  # 1520


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Garbage:
    client: mloop.Client
    content: ContentStore
    keep: str
    drop: str
    temp: Path

    def digests(self) -> set[str]:
        return {o.digest for o in self.content.iter_objects()}

    def deleted_runs(self) -> list[str]:
        return [r.info.run_id for r in self.client.search_runs(["1"], run_view_type="deleted_only")]


@pytest.fixture
def garbage(home: Path) -> Garbage:
    """A kept run, a deleted run, an object only the deleted run uses, an orphan and a stray."""
    client = mloop.Client()
    experiment = client.create_experiment("gc")
    assert experiment == "1"
    keep = client.create_run(experiment, run_name="keep").info.run_id
    drop = client.create_run(experiment, run_name="drop").info.run_id
    client.log_text(keep, SHARED.decode(), "shared.txt")
    client.log_text(keep, KEPT.decode(), "kept.txt")
    client.log_text(drop, SHARED.decode(), "shared.txt")
    client.log_text(drop, DROPPED.decode(), "dropped.txt")
    client.set_terminated(keep)
    client.set_terminated(drop)
    client.delete_run(drop)
    content = ContentStore(str(home / "artifacts"))
    content.put_bytes(ORPHAN)
    temp = home / "artifacts" / "tmp" / "interrupted-upload"
    temp.write_bytes(b"half an upload")
    time.sleep(0.01)  # the deletion and the writes are now strictly in the past
    return Garbage(client, content, keep, drop, temp)


ALL = {sha(SHARED), sha(KEPT), sha(DROPPED), sha(ORPHAN)}


def assert_nothing_removed(garbage: Garbage) -> None:
    assert garbage.digests() == ALL
    assert garbage.deleted_runs() == [garbage.drop]
    assert garbage.temp.exists()


def assert_collected(garbage: Garbage) -> None:
    assert garbage.digests() == {sha(SHARED), sha(KEPT)}
    assert not garbage.temp.exists()
    assert garbage.deleted_runs() == []
    with pytest.raises(NotFound):
        garbage.client.get_run(garbage.drop)
    kept = garbage.client.get_run(garbage.keep)
    assert kept.info.run_name == "keep"
    assert garbage.client.load_text(garbage.keep, "shared.txt") == SHARED.decode()
    assert garbage.client.load_text(garbage.keep, "kept.txt") == KEPT.decode()


def test_dry_run_reports_and_removes_nothing(garbage: Garbage) -> None:
    code, out, err = invoke("gc", "--dry-run", "--grace-period", "0")
    assert code == 0, err
    assert out.strip() == (
        f"gc would remove 1 run(s), 2 object(s) ({FREED:,} bytes) and 1 temporary file(s)"
    )
    assert "1,520 bytes" in out
    assert_nothing_removed(garbage)


def test_dry_run_json(garbage: Garbage) -> None:
    code, out, _ = invoke("gc", "--dry-run", "--grace-period", "0", "--json")
    assert code == 0
    report: dict[str, Any] = json.loads(out)
    assert report["purged_runs"] == [garbage.drop]
    assert sorted(report["deleted_objects"]) == sorted([sha(DROPPED), sha(ORPHAN)])
    assert report["freed_bytes"] == FREED
    assert report["temp_files"] == 1
    assert report["dry_run"] is True
    assert_nothing_removed(garbage)


def test_zero_grace_purges_deleted_runs_and_unreferenced_objects(garbage: Garbage) -> None:
    code, out, err = invoke("gc", "--grace-period", "0")
    assert code == 0, err
    assert out.strip() == (
        f"gc removed 1 run(s), 2 object(s) ({FREED:,} bytes) and 1 temporary file(s)"
    )
    assert_collected(garbage)
    code, out, _ = invoke("runs", "show", garbage.drop)
    assert code == 3


def test_dry_run_then_real_run_agree(garbage: Garbage) -> None:
    _, dry, _ = invoke("gc", "--dry-run", "--grace-period", "0", "--json")
    _, real, _ = invoke("gc", "--grace-period", "0", "--json")
    dry_report, real_report = json.loads(dry), json.loads(real)
    assert real_report["dry_run"] is False
    for key in ("purged_runs", "freed_bytes", "temp_files"):
        assert dry_report[key] == real_report[key]
    assert sorted(dry_report["deleted_objects"]) == sorted(real_report["deleted_objects"])


def test_second_collection_finds_nothing(garbage: Garbage) -> None:
    invoke("gc", "--grace-period", "0")
    code, out, _ = invoke("gc", "--grace-period", "0", "--json")
    assert code == 0
    assert json.loads(out) == {
        "purged_runs": [],
        "deleted_objects": [],
        "freed_bytes": 0,
        "temp_files": 0,
        "dry_run": False,
        "duplicate_copies": [],
        "problems": [],
    }


def test_default_grace_period_keeps_recent_garbage(garbage: Garbage) -> None:
    code, out, _ = invoke("gc", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["purged_runs"] == []
    assert report["deleted_objects"] == []
    assert report["temp_files"] == 0
    assert_nothing_removed(garbage)


def test_grace_period_from_the_environment(garbage: Garbage) -> None:
    code, _, err = invoke("gc", env={"MLOOP_GC_GRACE_SECONDS": "0"})
    assert code == 0, err
    assert_collected(garbage)


def test_option_wins_over_the_environment(garbage: Garbage) -> None:
    code, _, _ = invoke("gc", "--grace-period", "3600", env={"MLOOP_GC_GRACE_SECONDS": "0"})
    assert code == 0
    assert_nothing_removed(garbage)


def test_restored_run_is_not_purged(garbage: Garbage) -> None:
    garbage.client.restore_run(garbage.drop)
    code, out, _ = invoke("gc", "--grace-period", "0", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["purged_runs"] == []
    assert report["deleted_objects"] == [sha(ORPHAN)]
    assert garbage.digests() == ALL - {sha(ORPHAN)}


@pytest.mark.parametrize("grace", ["-1", "-0.5"])
def test_negative_grace_period(garbage: Garbage, grace: str) -> None:
    code, out, err = invoke("gc", "--grace-period", grace)
    assert code == 2
    assert out == ""
    assert err.startswith("error:")
    assert "grace period must be >= 0" in err
    assert_nothing_removed(garbage)


def test_empty_store(home: Path) -> None:
    mloop.Client()  # an empty store: read-only commands never create one
    code, out, _ = invoke("gc", "--grace-period", "0")
    assert code == 0
    assert out.strip() == "gc removed 0 run(s), 0 object(s) (0 bytes) and 0 temporary file(s)"


def test_console_script(garbage: Garbage) -> None:
    completed = subprocess.run(
        [str(MLOOP), "gc", "--dry-run", "--grace-period", "0", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["purged_runs"] == [garbage.drop]
    assert_nothing_removed(garbage)

    completed = subprocess.run(
        [str(MLOOP), "gc", "--grace-period", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("gc removed 1 run(s), 2 object(s)")
    assert_collected(garbage)


def test_console_script_negative_grace(garbage: Garbage) -> None:
    completed = subprocess.run(
        [str(MLOOP), "gc", "--grace-period", "-1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr.startswith("error: grace period must be >= 0")
    assert "Traceback" not in completed.stderr


def test_packed_artifacts_of_a_deleted_run_are_collected(home: Path, tmp_path: Path) -> None:
    """A folder of small files is stored as a pack; gc keeps the live part of a pack."""
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "shared.txt").write_bytes(SHARED)
    (folder / "only-dropped.txt").write_bytes(DROPPED)
    client = mloop.Client()
    experiment = client.create_experiment("packs")
    keep = client.create_run(experiment).info.run_id
    drop = client.create_run(experiment).info.run_id
    client.log_artifacts(drop, str(folder), "data")  # one pack: both files
    client.log_text(keep, SHARED.decode(), "shared.txt")  # deduplicated into the pack
    client.delete_run(drop)
    content = ContentStore(str(home / "artifacts"))
    packs = {o.pack for o in content.iter_objects()}
    assert len(packs) == 1 and None not in packs
    time.sleep(0.01)

    _, dry, _ = invoke("gc", "--grace-period", "0", "--dry-run", "--json")
    assert json.loads(dry)["deleted_objects"] == [sha(DROPPED)]
    assert {o.pack for o in content.iter_objects()} == packs  # a dry run rewrites nothing

    code, out, err = invoke("gc", "--grace-period", "0", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["deleted_objects"] == [sha(DROPPED)]
    assert report["freed_bytes"] == len(DROPPED)
    after = ContentStore(str(home / "artifacts"))
    assert {o.digest for o in after.iter_objects()} == {sha(SHARED)}
    assert {o.pack for o in after.iter_objects()}.isdisjoint(packs)  # the pack was rewritten
    assert client.load_text(keep, "shared.txt") == SHARED.decode()


def test_unreferenced_packs_survive_the_grace_period(home: Path) -> None:
    mloop.Client()  # an empty store: read-only commands never create one
    content = ContentStore(str(home / "artifacts"))
    with content.batch() as batch:
        batch.put_bytes(ORPHAN)
    # The store references nothing at all, so collecting needs --force.
    code, out, _ = invoke("gc", "--grace-period", "3600", "--json", "--force")
    assert code == 0
    assert json.loads(out)["deleted_objects"] == []
    assert content.exists(sha(ORPHAN))
    time.sleep(0.01)
    code, out, _ = invoke("gc", "--grace-period", "0", "--json", "--force")
    assert json.loads(out)["deleted_objects"] == [sha(ORPHAN)]
    assert list(ContentStore(str(home / "artifacts")).iter_objects()) == []
    assert not list((home / "artifacts" / "packs").iterdir())
