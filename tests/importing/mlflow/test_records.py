from __future__ import annotations

from mloop.importing.mlflow.records import ExperimentRecord, RunRecord, VersionRecord


def run(status: str, **tags: str) -> RunRecord:
    return RunRecord("r", "1", "n", status, 0, None, "active", "", "", tags=tags)


def test_only_ended_runs_are_final() -> None:
    assert [run(s).finished for s in ("FINISHED", "FAILED", "KILLED")] == [True] * 3
    assert not run("RUNNING").finished
    assert not run("SCHEDULED").finished


def test_a_nested_run_names_its_parent_by_tag() -> None:
    assert run("FINISHED", **{"mlflow.parentRunId": "p"}).parent_id == "p"
    assert run("FINISHED", **{"mlflow.parentRunId": ""}).parent_id is None


def test_where_a_versions_files_are() -> None:
    stored = VersionRecord("m", 1, "models:/m-1", "file:///x/artifacts")
    assert stored.files_uri == "file:///x/artifacts"
    assert VersionRecord("m", 1, "runs:/abc/model", "").files_uri == "runs:/abc/model"
    assert ExperimentRecord("1", "e", "deleted").deleted
