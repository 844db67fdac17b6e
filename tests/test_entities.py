"""Entity fields under MLflow's names: PagedList.token, ModelVersion.aliases as a list."""

from __future__ import annotations

from mloop.entities import ModelVersion, ModelVersionStatus, PagedList, RegisteredModel


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
