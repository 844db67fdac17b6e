"""The contract of projects: names are unique within a project, ids reach across them.

Run against every backend by subclassing with a ``store_set`` fixture (a
fresh :class:`~mloop.store.set.StoreSet` in project ``default``).
"""

from __future__ import annotations

import pytest

from mloop.entities import DatasetFile, DatasetRef, RunStatus
from mloop.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from mloop.store.protocols.registry import NewVersion
from mloop.store.set import StoreSet

DIGEST = "ab" * 32


def _version(name: str) -> NewVersion:
    return NewVersion(
        digest=DIGEST,
        manifest_digest=DIGEST,
        flavor="sklearn",
        source=name,
        files=(),
        created_by="ana",
    )


class ProjectContract:
    __test__ = False

    def test_every_store_starts_with_the_default_project(self, store_set: StoreSet) -> None:
        assert store_set.project == "default"
        assert [p.name for p in store_set.projects.list_projects()] == ["default"]
        assert store_set.projects.get_project("default").name == "default"

    def test_two_projects_hold_the_same_names(self, store_set: StoreSet) -> None:
        a, b = store_set.in_project("alpha"), store_set.in_project("beta")
        ids = {s.project: s.experiments.create_experiment("credit") for s in (a, b)}
        assert ids["alpha"] != ids["beta"]
        for s in (a, b):
            assert s.experiments.get_experiment_by_name("credit").experiment_id == ids[s.project]
            assert [e.name for e in s.experiments.search_experiments()] == ["credit"]
            s.datasets.commit_version("credit", DIGEST, [DatasetFile("x.csv", DIGEST, 1)])
            s.models.create_version("credit", _version(s.project))
        assert store_set.experiments.get_experiment_by_name("credit") is None
        assert store_set.datasets.list_datasets() == []
        assert store_set.models.list_models() == []
        assert a.models.get_version("credit", 1).source == "alpha"
        assert b.models.get_version("credit", 1).source == "beta"
        assert a.datasets.get_version(DatasetRef("credit", 1)).version == 1
        names = [p.name for p in store_set.projects.list_projects()]
        assert names == ["alpha", "beta", "default"]

    def test_a_name_is_unique_within_its_project(self, store_set: StoreSet) -> None:
        a = store_set.in_project("alpha")
        a.experiments.create_experiment("credit")
        with pytest.raises(AlreadyExists, match="in project 'alpha'"):
            a.experiments.create_experiment("credit")
        a.models.create_model("credit")
        with pytest.raises(AlreadyExists, match="in project 'alpha'"):
            a.models.create_model("credit")

    def test_names_of_another_project_are_not_found(self, store_set: StoreSet) -> None:
        a, b = store_set.in_project("alpha"), store_set.in_project("beta")
        a.models.create_version("credit", _version("alpha"))
        a.aliases.set_alias("credit", "champion", 1, expected=None, actor="ana")
        a.datasets.commit_version("credit", DIGEST, [DatasetFile("x.csv", DIGEST, 1)])
        with pytest.raises(NotFound, match="in project 'beta'"):
            b.models.get_model("credit")
        with pytest.raises(NotFound):
            b.models.get_version("credit", 1)
        with pytest.raises(NotFound):
            b.aliases.get_alias("credit", "champion")
        with pytest.raises(NotFound, match="in project 'beta'"):
            b.datasets.get_version(DatasetRef("credit", 1))
        assert a.aliases.get_alias("credit", "champion").version == 1

    def test_ids_reach_across_projects(self, store_set: StoreSet) -> None:
        a = store_set.in_project("alpha")
        experiment_id = a.experiments.create_experiment("credit")
        run_id = a.runs.create_run(experiment_id, "r", 0, {}).run_id
        other = store_set.in_project("beta")
        assert other.experiments.get_experiment(experiment_id).name == "credit"
        assert other.runs.get_run(run_id).info.status == RunStatus.RUNNING
        a.models.create_version("credit", _version("alpha"))
        assert [v.name for v in other.models.find_versions(DIGEST)] == ["credit"]

    def test_garbage_collection_sees_every_project(self, store_set: StoreSet) -> None:
        a = store_set.in_project("alpha")
        a.datasets.commit_version("credit", DIGEST, [DatasetFile("x.csv", DIGEST, 1)])
        assert DIGEST in store_set.datasets.referenced_digests()

    def test_projects_by_name(self, store_set: StoreSet) -> None:
        made = store_set.projects.create_project("fraud", description="card fraud")
        assert store_set.projects.get_project("fraud") == made
        with pytest.raises(AlreadyExists):
            store_set.projects.create_project("fraud")
        with pytest.raises(NotFound, match="mloop projects ls"):
            store_set.projects.get_project("nope")
        with pytest.raises(InvalidInput, match="project name"):
            store_set.projects.create_project("no spaces")
        with pytest.raises(InvalidInput, match="project name"):
            store_set.in_project("../etc")

    def test_a_failed_first_write_in_a_project_leaves_nothing_to_leak(
        self, store_set: StoreSet
    ) -> None:
        a = store_set.in_project("alpha")
        twice = [DatasetFile("x.csv", DIGEST, 1), DatasetFile("x.csv", DIGEST, 1)]
        with pytest.raises(Exception):  # noqa: B017  (the database refuses the duplicate path)
            a.datasets.commit_version("d", DIGEST, twice)
        b = store_set.in_project("beta")
        b.experiments.create_experiment("beta-secret")
        assert a.experiments.search_experiments() == []
        assert a.experiments.get_experiment_by_name("beta-secret") is None
        assert b.experiments.get_experiment_by_name("beta-secret") is not None

    def test_names_that_differ_only_in_case_are_refused(self, store_set: StoreSet) -> None:
        store_set.projects.create_project("fraud")
        with pytest.raises(Conflict, match="differs only in case"):
            store_set.projects.create_project("Fraud")
        with pytest.raises(Conflict, match="use 'fraud'"):
            store_set.in_project("FRAUD").experiments.create_experiment("x")
        with pytest.raises(Conflict, match="use 'default'"):
            store_set.in_project("Default").datasets.commit_version(
                "d", DIGEST, [DatasetFile("x.csv", DIGEST, 1)]
            )
        assert [p.name for p in store_set.projects.list_projects()] == ["default", "fraud"]
