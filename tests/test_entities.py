"""Entity fields under MLflow's names (PagedList.token, ModelVersion.aliases) and JSON lists as lists."""

from __future__ import annotations

from mloop.entities import (
    POLICY_RUN_STATUSES,
    ModelVersion,
    ModelVersionStatus,
    Monitor,
    MonitorReport,
    PagedList,
    PolicyRun,
    RegisteredModel,
)


def test_paged_list_token_is_the_next_page_token() -> None:
    pages = {None: PagedList([1, 2], "t2"), "t2": PagedList([3])}
    token: str | None = None
    seen: list[int] = []
    while True:  # MLflow's paging loop
        page = pages[token]
        seen.extend(page)
        token = page.token
        if not page.token:
            break
    assert seen == [1, 2, 3]


def test_model_version_aliases_are_a_sorted_list() -> None:
    args = ("m", 1, "ab", "sklearn", "runs:/r/model", None, ModelVersionStatus.READY, "ana", 0, "c")
    version = ModelVersion(*args, aliases=("prod", "champion"))
    assert version.aliases == ["champion", "prod"]
    assert ModelVersion(*args).aliases == []
    assert RegisteredModel("m", 0, 0).latest_versions == ()


def test_json_lists_given_as_tuples_read_as_lists() -> None:
    monitor = Monitor("m", "dataset:d", "d@1", "1h", "1d", checks=("drift",), rules=("r",))
    assert (monitor.checks, monitor.rules, monitor.notifiers) == (["drift"], ["r"], [])
    report = MonitorReport("m", 0, 1, "ok", model_versions=("credit/3",), alerts=())
    assert (report.model_versions, report.alerts) == (["credit/3"], [])
    assert PolicyRun("r", "p", "running", {}, 0, chain=({"step": "s"},)).chain == [{"step": "s"}]
    # Anything else is kept as given, for the store to refuse with a clear message.
    assert MonitorReport("m", 0, 1, "ok", model_versions="credit/3").model_versions == "credit/3"  # type: ignore[arg-type]


def test_a_policy_run_is_finished_in_four_of_its_statuses() -> None:
    finished = [s for s in POLICY_RUN_STATUSES if PolicyRun("r", "p", s, {}, 0).finished]
    assert finished == ["succeeded", "failed", "rolled-back", "cancelled"]
