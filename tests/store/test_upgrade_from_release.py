"""A store written by mloop 0.1.0 opens in this release with its data and artifacts intact.

The fixture (``tests/store/fixtures/release_0_1_0``) was written by 0.1.0 at
schema revision 0005; the same store is also loaded into PostgreSQL at 0005.
Opening it through the public API upgrades it, and everything it held is
still there, in project ``default``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

import mloop
from mloop.store import schema
from mloop.store.engine import create_engine
from mloop.store.migrate import MIGRATIONS_DIR, current_revision

FIXTURE = Path(__file__).parent / "fixtures" / "release_0_1_0"


def _copy_fixture(root: Path) -> None:
    shutil.copytree(FIXTURE, root, dirs_exist_ok=True)
    (root / "README.md").unlink()


def _check_everything_is_there() -> None:
    client = mloop.Client()
    experiment = client.get_experiment_by_name("credit")
    assert experiment is not None
    runs = mloop.search_runs(experiment_names=["credit"], output_format="list")
    by_name = {run.info.run_name: run for run in runs}
    assert {"baseline", "child", "train"} <= set(by_name)
    baseline = by_name["baseline"]
    assert baseline.data.params == {"lr": "0.1", "depth": "3"}
    assert baseline.data.tags["team"] == "risk"
    assert [m.value for m in mloop.get_metric_history(baseline.info.run_id, "loss")] == [
        1.0,
        0.5,
        pytest.approx(1 / 3),
        0.25,
        0.2,
    ]
    assert client.load_text(baseline.info.run_id, "notes.txt") == "hello from 0.1.0\n"
    assert by_name["child"].info.parent_run_id == baseline.info.run_id

    prod = mloop.data.get("credit@prod")
    assert prod.version == 2
    assert mloop.data.get("credit@1").info.description == "first"
    assert (prod.path / "train.csv").read_text().splitlines()[-1] == "5,1"

    model = mloop.models.load("models:/credit@champion")
    assert list(model.predict(np.array([[1.0], [4.0]]))) in ([0, 1], [0, 0], [1, 1], [1, 0])
    assert [d.actor for d in mloop.models.decisions("credit", 1)] == ["ana"]
    assert [c.to_version for c in mloop.models.alias_history("credit", "champion")] == [1]


def test_a_sqlite_store_from_0_1_0_upgrades_with_everything_in_it(home: Path) -> None:
    _copy_fixture(home)
    engine = create_engine(f"sqlite:///{home}/mloop.db")
    assert current_revision(engine) == "0005"
    engine.dispose()

    _check_everything_is_there()

    engine = create_engine(f"sqlite:///{home}/mloop.db")
    assert current_revision(engine) == schema.HEAD_REVISION
    with engine.connect() as conn:
        default = conn.execute(sa.select(schema.projects.c.project_id)).scalars().all()
        assert default == [schema.DEFAULT_PROJECT_ID]
        for table in (schema.experiments, schema.datasets, schema.registered_models):
            owners = conn.execute(sa.select(table.c.project_id).distinct()).scalars().all()
            assert owners == [schema.DEFAULT_PROJECT_ID]
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


@pytest.fixture
def postgres_at_0005(postgres_url: str, tmp_path: Path) -> Iterator[str]:
    """A PostgreSQL schema holding the 0.1.0 store's rows at revision 0005."""
    from alembic import command
    from alembic.config import Config

    name = "release_0_1_0"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {name}")
    url = sa.engine.make_url(postgres_url).update_query_dict({"options": f"-csearch_path={name}"})
    uri = url.render_as_string(hide_password=False)
    target = create_engine(uri)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    shutil.copy(FIXTURE / "mloop.db", tmp_path / "source.db")
    source = sa.create_engine(f"sqlite:///{tmp_path}/source.db")
    old = sa.MetaData()
    old.reflect(source)
    assert "store_meta" in old.tables
    with target.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0005")
        with source.connect() as read:
            for table in old.sorted_tables:
                if table.name == "alembic_version":
                    continue
                rows = [dict(row._mapping) for row in read.execute(table.select())]
                if rows:
                    conn.execute(
                        sa.Table(table.name, sa.MetaData(), autoload_with=conn).insert(), rows
                    )
        for table, column in (
            ("experiments", "experiment_id"),
            ("datasets", "dataset_id"),
            ("dataset_versions", "version_id"),
            ("dataset_validations", "validation_id"),
            ("metrics", "id"),
            ("registered_models", "model_id"),
            ("model_versions", "version_id"),
        ):
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                f"COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
            )
    source.dispose()
    assert current_revision(target) == "0005"
    target.dispose()
    yield uri
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {name} CASCADE")
    admin.dispose()


@pytest.mark.postgres
def test_a_postgres_store_from_0_1_0_upgrades_with_everything_in_it(
    home: Path, postgres_at_0005: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _copy_fixture(home)
    (home / "mloop.db").unlink()
    monkeypatch.setenv("MLOOP_TRACKING_URI", postgres_at_0005)
    monkeypatch.setenv("MLOOP_ARTIFACTS_URI", str(home / "artifacts"))

    _check_everything_is_there()

    engine = create_engine(postgres_at_0005)
    assert current_revision(engine) == schema.HEAD_REVISION
    with engine.connect() as conn:
        for table in (schema.experiments, schema.datasets, schema.registered_models):
            owners = conn.execute(sa.select(table.c.project_id).distinct()).scalars().all()
            assert owners == [schema.DEFAULT_PROJECT_ID]
        # New rows get fresh ids after the upgrade.
        conn.execute(schema.projects.insert().values(name="later", description="", created_time=0))
        conn.rollback()
    engine.dispose()
