"""Faults: ``mloop fsck`` on a store with deleted packs, damaged indexes and damaged objects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sklearn.linear_model import LinearRegression
from typer.testing import CliRunner

import mloop
from mloop.artifacts.cas import ContentStore
from mloop.artifacts.check import Reference, check_store
from mloop.artifacts.packs import decode_index
from mloop.cli.app import app
from mloop.errors import IntegrityError
from mloop.tracking.connection import connect


def fsck(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["fsck", *args])
    return result.exit_code, result.output


@pytest.fixture
def stored(home: Path, tmp_path: Path) -> Path:
    """A dataset (packed), a run artifact (loose) and an unreferenced object."""
    folder = tmp_path / "rows"
    folder.mkdir()
    for i in range(5):
        (folder / f"part{i}.csv").write_text(f"a\n{i}\n")
    mloop.data.add(folder, "ds")
    with mloop.start_run():
        mloop.log_text("notes", "notes.txt")
    mloop.Client().content.put_bytes(b"nobody points here")
    return home / "artifacts"


def _only(root: Path, suffix: str) -> Path:
    (found,) = (root / "packs").glob(f"*{suffix}")
    return found


def test_a_sound_store_passes_and_lists_what_nothing_references(stored: Path) -> None:
    code, out = fsck()
    assert code == 0, out
    assert "all objects intact" in out
    assert "1 unreferenced" in out
    code, out = fsck("--json")
    report = json.loads(out)
    assert report["ok"] is True
    assert report["objects"] == 7
    assert len(report["orphans"]) == 1


def test_a_deleted_pack_is_reported_with_the_dataset_it_affects(stored: Path) -> None:
    _only(stored, ".pack").unlink()
    code, out = fsck("--json")
    assert code == 6
    report = json.loads(out)
    (problem,) = report["problems"]
    assert problem["kind"] == "missing pack"
    assert "dataset 'ds@1' file 'part3.csv'" in problem["affects"]
    code, out = fsck("--repair")
    assert code == 6  # the objects are gone: nothing brings them back
    assert "missing pack" in out
    assert not list((stored / "packs").glob("*.idx"))  # the dangling index went
    code, out = fsck("--json")
    assert code == 6
    assert {p["kind"] for p in json.loads(out)["problems"]} == {"missing"}


def test_a_damaged_index_is_rebuilt_from_its_pack(stored: Path) -> None:
    index = _only(stored, ".idx")
    index.write_bytes(index.read_bytes()[:-1] + b"!")
    code, out = fsck()
    assert code == 6
    assert "damaged index" in out
    code, out = fsck("--repair")
    assert code == 0, out
    code, out = fsck()
    assert code == 0, out
    assert len(mloop.data.get("ds@1").to_pandas()) == 5


def test_a_damaged_object_names_the_run_artifact(stored: Path) -> None:
    run = mloop.search_runs(output_format="list")[0]
    digest = mloop.Client().list_artifacts(run.info.run_id)[0].digest
    assert digest is not None
    loose = stored / "objects" / digest[:2] / digest[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"NOTES")
    code, out = fsck("--repair", "--json")
    assert code == 6  # no good copy to fall back on
    (problem,) = json.loads(out)["problems"]
    assert problem["kind"] == "damaged"
    assert problem["affects"] == [f"run {run.info.run_id} artifact 'notes.txt'"]
    assert problem["repaired"] is False


def test_a_damaged_loose_copy_is_dropped_when_a_packed_copy_is_good(
    stored: Path, tmp_path: Path
) -> None:
    content = mloop.Client().content
    source = tmp_path / "part0.csv"
    source.write_text("a\n0\n")
    digest, _ = content.put_file(source, likely_new=True)  # a second, loose copy
    loose = stored / "objects" / digest[:2] / digest[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"a\n9\n")
    code, out = fsck("--repair")
    assert code == 0, out
    assert not loose.exists()
    assert fsck()[0] == 0


def test_a_truncated_pack_disagrees_with_its_index(stored: Path) -> None:
    pack = _only(stored, ".pack")
    pack.write_bytes(pack.read_bytes()[:-2])
    code, out = fsck("--json")
    assert code == 6
    (problem,) = json.loads(out)["problems"]
    assert problem["kind"] == "damaged"
    assert problem["affects"] == ["dataset 'ds@1' file 'part4.csv'"]


def test_the_table_names_what_is_affected(stored: Path) -> None:
    _only(stored, ".pack").unlink()
    code, out = fsck()
    assert code == 6
    assert "missing pack" in out
    assert "and 2 more" in out
    assert "objects missing or damaged" in out


def test_local_copies_are_reread_and_fetched_again_with_repair(stored: Path, home: Path) -> None:
    copy = mloop.data.get("ds@1").path / "part2.csv"
    copy.chmod(0o644)
    copy.write_text("a\n7\n")
    code, out = fsck("--json")
    assert code == 6
    assert json.loads(out)["local_copies"] == {"dataset 'ds@1'": ["part2.csv"]}
    code, out = fsck("--repair")
    assert code == 0, out
    assert "local copy of dataset 'ds@1'" in out
    assert copy.read_text() == "a\n2\n"
    assert fsck()[0] == 0


def test_a_local_model_copy_is_reread(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "m"
    mloop.models.save(LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]), path)
    version = mloop.models.register(path, "credit")
    model = mloop.models.load("models:/credit/1")
    (model.path / "extra.txt").write_text("not in the package")
    code, out = fsck("--json")
    assert code == 6
    assert json.loads(out)["local_copies"] == {f"model '{version.ref}'": ["extra.txt"]}
    assert fsck("--repair")[0] == 0
    assert not (model.path / "extra.txt").exists()


@pytest.mark.postgres
def test_references_name_runs_datasets_and_models_on_postgres(
    home: Path, tmp_path: Path, postgres_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOOP_TRACKING_URI", postgres_store)
    with mloop.start_run() as run:
        mloop.log_text("notes", "notes.txt")
    folder = tmp_path / "rows"
    folder.mkdir()
    (folder / "part.csv").write_text("a\n1\n")
    name = f"ds{run.info.run_id[:8]}"  # the database is shared by the session's tests
    mloop.data.add(folder, name)
    path = tmp_path / "m"
    mloop.models.save(LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]), path)
    version = mloop.models.register(path, name)
    stores = connect(mloop.Client().settings).stores
    labels = {what for _, _, what in stores.artifacts.references()}
    assert f"run {run.info.run_id} artifact 'notes.txt'" in labels
    assert f"dataset '{name}@1' file 'part.csv'" in labels
    assert f"model '{version.ref}' file 'mloop-model.yaml'" in labels


def test_damaged_packed_copies_with_good_loose_copies_go_in_one_rewrite(
    stored: Path, tmp_path: Path
) -> None:
    content = mloop.Client().content
    for i in (1, 3):  # good copies of their own for two of the packed objects
        source = tmp_path / f"part{i}.csv"
        source.write_text(f"a\n{i}\n")
        content.put_file(source, likely_new=True)
    pack = _only(stored, ".pack")
    data = pack.read_bytes()
    pack.write_bytes(data.replace(b"a\n1\n", b"a\nX\n").replace(b"a\n3\n", b"a\nY\n"))
    code, out = fsck("--json")
    assert code == 6  # damage is reported, though readers find the good copies
    assert [p["kind"] for p in json.loads(out)["problems"]] == ["damaged", "damaged"]
    code, out = fsck("--repair", "--json")
    assert code == 0
    assert all(p["repaired"] for p in json.loads(out)["problems"])
    code, out = fsck("--json")
    assert json.loads(out)["problems"] == []
    assert len(mloop.data.get("ds@1").to_pandas()) == 5


def test_repair_keeps_a_pack_committed_while_it_lists_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ContentStore(str(tmp_path / "store"))
    with store.batch() as batch:
        first = batch.put_bytes(b"old object")
    listed = store.pack_names
    stored: list[str] = []

    def pack_names(suffix: str = ".idx") -> set[str]:
        names = listed(suffix)
        if not stored:  # a writer commits a pack right after this listing
            with store.batch() as batch:
                stored.append(batch.put_bytes(b"an object a concurrent writer just stored"))
        return names

    monkeypatch.setattr(store, "pack_names", pack_names)
    report = check_store(store, [Reference(first, 10, "run r artifact 'a'")], repair=True)
    assert [p.kind for p in report.problems] == []
    assert ContentStore(str(tmp_path / "store")).get_bytes(stored[0]) == (
        b"an object a concurrent writer just stored"
    )


def test_a_damaged_index_message_points_to_repair() -> None:
    with pytest.raises(IntegrityError, match="mloop fsck --repair") as caught:
        decode_index(b"garbage", "packs/p.idx")
    assert "delete" not in str(caught.value)
