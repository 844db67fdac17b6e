"""Fault tests: a metadata store and an artifact store that do not belong together.

`mloop gc` once deleted every object when pointed at a 0-byte `mloop.db` (silently
recreated empty) or at another project's artifact root. Each test here failed
before stores had identities.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

import mloop
from mloop.artifacts.cas import ContentStore
from mloop.artifacts.identity import IDENTITY_FILE, read_identity
from mloop.errors import Conflict, NotFound, StoreError
from mloop.store.engine import create_engine
from mloop.store.migrate import ensure_schema
from mloop.store.mode import existing_stores_only
from mloop.store.opening import open_store
from mloop.tracking.connection import disconnect_all
from tests.cli.conftest import invoke

PAYLOAD = "an artifact that must survive"


def _store_with_an_artifact(tracking_uri: str, artifacts: Path, payload: str = PAYLOAD) -> str:
    """A run with one logged artifact; returns the run id."""
    client = mloop.Client(tracking_uri=tracking_uri, artifacts_uri=str(artifacts))
    experiment = client.create_experiment("kept")
    run_id = client.create_run(experiment).info.run_id
    client.log_text(run_id, payload, "kept.txt")
    client.set_terminated(run_id)
    disconnect_all()
    return run_id


def _objects(artifacts: Path) -> set[str]:
    return {o.digest for o in ContentStore(str(artifacts)).iter_objects()}


def _gc(tracking_uri: str, artifacts: Path, *extra: str) -> tuple[int, str]:
    env = {"MLOOP_TRACKING_URI": tracking_uri, "MLOOP_ARTIFACTS_URI": str(artifacts)}
    code, _, err = invoke("gc", "--grace-period", "0", *extra, env=env)
    disconnect_all()
    return code, err


def test_a_zero_byte_database_is_refused_not_recreated(home: Path) -> None:
    db = home / "mloop.db"
    _store_with_an_artifact(f"sqlite:///{db}", home / "artifacts")
    before = _objects(home / "artifacts")
    db.write_bytes(b"")
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    code, err = _gc(f"sqlite:///{db}", home / "artifacts")
    assert code == StoreError.exit_code
    assert str(db) in err and "empty (0 bytes)" in err
    assert db.stat().st_size == 0  # not turned into a new store
    assert _objects(home / "artifacts") == before


def test_gc_refuses_the_artifact_store_of_another_store(home: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    owner = f"sqlite:///{tmp_path}/owner/mloop.db"
    _store_with_an_artifact(owner, shared)
    before = _objects(shared)
    other = f"sqlite:///{tmp_path}/other/mloop.db"
    open_store(other)[0].dispose()
    code, err = _gc(other, shared)
    assert code == Conflict.exit_code
    assert "belongs to another metadata store" in err
    assert f"{tmp_path}/owner/mloop.db" in err and f"{tmp_path}/other/mloop.db" in err
    assert "MLOOP_TRACKING_URI" in err and "MLOOP_ARTIFACTS_URI" in err
    assert _objects(shared) == before


def test_every_write_refuses_a_mismatched_pair(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    _store_with_an_artifact(f"sqlite:///{tmp_path}/owner/mloop.db", shared)
    with pytest.raises(Conflict, match="belongs to another metadata store"):
        mloop.Client(tracking_uri=f"sqlite:///{tmp_path}/b/mloop.db", artifacts_uri=str(shared))
    monkeypatch.setenv("MLOOP_ARTIFACTS_URI", str(shared))
    mloop.set_tracking_uri(f"sqlite:///{tmp_path}/b/mloop.db")
    (tmp_path / "d.csv").write_text("a\n1\n")
    with pytest.raises(Conflict):  # the data and models domains open the pair the same way
        mloop.data.add(tmp_path / "d.csv", name="d")
    with pytest.raises(Conflict):
        mloop.models.list_models()


def test_gc_refuses_a_store_that_references_nothing_unless_forced(
    home: Path, tmp_path: Path
) -> None:
    legacy = tmp_path / "legacy"
    ContentStore(str(legacy)).put_bytes(b"an object of a store from before identities")
    before = _objects(legacy)
    empty = f"sqlite:///{tmp_path}/empty/mloop.db"
    code, err = _gc(empty, legacy)  # no store there at all: gc does not create one
    assert code == NotFound.exit_code and "no mloop store" in err
    assert not (tmp_path / "empty").exists()
    open_store(empty)[0].dispose()
    code, err = _gc(empty, legacy)
    assert code == Conflict.exit_code
    assert "holds objects but records no owner" in err and "--force" in err
    assert _objects(legacy) == before
    code, err = _gc(empty, legacy, "--force")
    assert code == 0, err
    assert _objects(legacy) == set()


def test_a_legacy_artifact_root_is_adopted_with_the_store_id(home: Path, tmp_path: Path) -> None:
    legacy = tmp_path / "legacy"
    uri = f"sqlite:///{tmp_path}/s/mloop.db"
    _store_with_an_artifact(uri, legacy)
    (legacy / IDENTITY_FILE).unlink()  # as a store from before identities left it
    client = mloop.Client(tracking_uri=uri, artifacts_uri=str(legacy))
    identity = read_identity(str(legacy))
    assert identity is not None
    assert identity.store_id == client._backend.stores.store_id
    document = json.loads((legacy / IDENTITY_FILE).read_text())
    assert document["tracking_uri"] == uri and document["store_id"] == identity.store_id
    disconnect_all()
    mloop.Client(tracking_uri=uri, artifacts_uri=str(legacy))  # the same pair opens again
    assert _gc(uri, legacy)[0] == 0


def _unowned_root_of_a(tmp_path: Path) -> tuple[Path, str, set[str]]:
    """Store A with an artifact, its root's identity file removed (from before identities)."""
    root = tmp_path / "A" / "artifacts"
    _store_with_an_artifact(f"sqlite:///{tmp_path}/A/mloop.db", root)
    (root / IDENTITY_FILE).unlink()
    b = f"sqlite:///{tmp_path}/B/mloop.db"
    _store_with_an_artifact(b, tmp_path / "B" / "artifacts", "B's own")  # nothing in common
    return root, b, _objects(root)


def test_gc_never_collects_an_unowned_root_that_holds_objects(home: Path, tmp_path: Path) -> None:
    root, b, before = _unowned_root_of_a(tmp_path)
    code, err = _gc(b, root)
    assert code == Conflict.exit_code, err
    assert "holds objects but records no owner" in err and "--force" in err
    assert str(root) in err and f"{tmp_path}/B/mloop.db" in err
    assert _objects(root) == before
    assert not (root / IDENTITY_FILE).exists()


def test_a_writer_does_not_adopt_another_stores_unowned_root(home: Path, tmp_path: Path) -> None:
    root, b, before = _unowned_root_of_a(tmp_path)
    with pytest.raises(Conflict, match="references none of them") as caught:
        mloop.Client(tracking_uri=b, artifacts_uri=str(root))
    message = str(caught.value)
    assert str(root) in message and f"{tmp_path}/B/mloop.db" in message
    assert "MLOOP_ARTIFACTS_URI" in message and "--force" in message
    assert not (root / IDENTITY_FILE).exists()
    disconnect_all()
    code, _ = _gc(b, root)
    assert code == Conflict.exit_code
    assert _objects(root) == before


def test_gc_force_dry_run_records_the_pairing_and_removes_nothing(
    home: Path, tmp_path: Path
) -> None:
    root, b, before = _unowned_root_of_a(tmp_path)
    code, err = _gc(b, root, "--force", "--dry-run")
    assert code == 0, err
    identity = read_identity(str(root))
    assert identity is not None and identity.tracking_uri == b
    assert _objects(root) == before
    mloop.Client(tracking_uri=b, artifacts_uri=str(root))  # bound now: writers accept it


def test_a_password_in_the_uri_is_masked_when_an_unowned_root_is_refused(
    home: Path, tmp_path: Path
) -> None:
    root = "memory://user:hunter2@bucket/unowned"
    ContentStore(root).put_bytes(b"an object of some other store")
    with pytest.raises(Conflict, match="records no owner") as caught:
        mloop.Client(tracking_uri=f"sqlite:///{tmp_path}/s/mloop.db", artifacts_uri=root)
    assert "hunter2" not in str(caught.value)


def test_the_store_id_is_created_with_the_schema_and_kept(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/s.db"
    engine, first = open_store(uri)
    engine.dispose()
    engine, again = open_store(uri)
    assert again == first
    with engine.begin() as conn:  # a store from before identities gets one on its next open
        conn.exec_driver_sql("DELETE FROM store_meta")
    assert len(ensure_schema(engine)) == 32
    engine.dispose()


def test_read_only_opens_check_but_never_write_the_identity(home: Path, tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/s/mloop.db"
    engine, _ = open_store(uri)
    engine.dispose()
    root = tmp_path / "artifacts"
    with existing_stores_only():
        mloop.Client(tracking_uri=uri, artifacts_uri=str(root))
    assert not (root / IDENTITY_FILE).exists()


def test_memory_artifact_roots_are_paired_too(home: Path, tmp_path: Path) -> None:
    root = f"memory://identity-{tmp_path.name}"
    mloop.Client(tracking_uri=f"sqlite:///{tmp_path}/a/mloop.db", artifacts_uri=root)
    with pytest.raises(Conflict):
        mloop.Client(tracking_uri=f"sqlite:///{tmp_path}/b/mloop.db", artifacts_uri=root)


@pytest.mark.postgres
def test_gc_with_the_default_store_keeps_a_postgres_stores_objects(
    postgres_store: str, home: Path, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    _store_with_an_artifact(postgres_store, shared)
    before = _objects(shared)
    mloop.Client(tracking_uri=f"sqlite:///{home}/mloop.db")  # the default store, in use
    disconnect_all()
    code, err = _gc(f"sqlite:///{home}/mloop.db", shared)
    assert code == Conflict.exit_code, err
    assert "postgresql+psycopg://postgres@" in err
    assert _objects(shared) == before


def test_a_missing_store_is_not_created_when_only_reading(tmp_path: Path) -> None:
    db = tmp_path / "nowhere" / "mloop.db"
    with existing_stores_only(), pytest.raises(NotFound, match="no mloop store"):
        open_store(f"sqlite:///{db}")
    assert not db.parent.exists()
    engine = create_engine(f"sqlite:///{tmp_path}/plain.db")  # an empty SQLite database
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT 1"))
    engine.dispose()
    with existing_stores_only(), pytest.raises(NotFound, match="holds no mloop store"):
        open_store(f"sqlite:///{tmp_path}/plain.db")


def test_a_store_upgraded_from_before_identities_gets_one(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from mloop.store.migrate import MIGRATIONS_DIR

    engine = create_engine(f"sqlite:///{tmp_path}/old.db")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0004")
    store_id = ensure_schema(engine)
    assert len(store_id) == 32
    assert ensure_schema(engine) == store_id  # kept, not made again
    engine.dispose()


@pytest.mark.parametrize("root", ["/proc/1/nonexist/artifacts", "READ_ONLY"])
def test_an_artifact_root_that_cannot_be_made_is_a_store_error(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, root: str
) -> None:
    if root == "READ_ONLY":  # as root, permissions do not stop us: the file system refuses
        root = str(tmp_path / "read-only" / "artifacts")

        def refuse(*args: object, **kwargs: object) -> None:
            raise PermissionError(13, "Permission denied", root)

        monkeypatch.setattr("mloop.artifacts.identity.write_once", refuse)
    (tmp_path / "d.csv").write_text("a\n1\n")
    env = {"MLOOP_ARTIFACTS_URI": root}
    code, _, err = invoke("data", "add", str(tmp_path / "d.csv"), "--name", "d", env=env)
    disconnect_all()
    assert code == StoreError.exit_code, err
    assert "Traceback" not in err
    assert f"cannot write to the artifact store {root!r}" in err
    assert "MLOOP_ARTIFACTS_URI" in err


def test_an_unwritable_remote_root_is_named_with_its_password_masked(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", "memory://user:hunter2@bucket/a")

    monkeypatch.setattr("fsspec.implementations.memory.MemoryFileSystem.pipe_file", refuse)
    with pytest.raises(
        StoreError, match=r"cannot write 'mloop-store\.json' in the artifact store"
    ) as caught:
        mloop.Client(
            tracking_uri=f"sqlite:///{tmp_path}/s/mloop.db",
            artifacts_uri="memory://user:hunter2@bucket/a",
        )
    assert "hunter2" not in str(caught.value)


def test_an_empty_root_is_not_adopted_by_a_store_whose_objects_are_elsewhere(
    home: Path, tmp_path: Path
) -> None:
    data = tmp_path / "d"
    data.mkdir()
    (data / "f.csv").write_text("x\n1\n")
    assert invoke("data", "add", str(data), "-n", "ds")[0] == 0
    disconnect_all()
    empty = tmp_path / "empty-root"
    code, _, err = invoke("--artifacts-uri", str(empty), "data", "add", str(data), "-n", "other")
    assert code == Conflict.exit_code, err
    assert "is empty, but the metadata store" in err and "references 1 objects" in err
    assert read_identity(str(empty)) is None  # nothing written there
    code, _, err = invoke("data", "get", "ds", "-o", str(tmp_path / "out"))
    assert code == 0, err  # the store and its own root are untouched
