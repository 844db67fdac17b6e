"""set_registry_uri accepts the tracking store and refuses any other; get_registry_uri names it."""

from __future__ import annotations

from pathlib import Path

import pytest

import mloop
from mloop.errors import InvalidInput


def test_the_registry_uri_is_the_tracking_uri(home: Path, tmp_path: Path) -> None:
    assert mloop.get_registry_uri() == mloop.get_tracking_uri() == f"sqlite:///{home}/mloop.db"
    mloop.set_tracking_uri(tmp_path / "store")
    assert mloop.get_registry_uri() == f"sqlite:///{tmp_path}/store/mloop.db"


@pytest.mark.parametrize("same", ["{home}", "file:{home}", "sqlite:///{home}/mloop.db", "", None])
def test_the_tracking_store_or_nothing_is_accepted(home: Path, same: str | None) -> None:
    mloop.set_registry_uri(same.format(home=home) if same is not None else None)
    assert mloop.get_registry_uri() == f"sqlite:///{home}/mloop.db"


def test_another_store_is_refused_without_echoing_a_password(home: Path) -> None:
    with pytest.raises(InvalidInput, match=r"set_tracking_uri\('sqlite:///other.db'\)"):
        mloop.set_registry_uri("sqlite:///other.db")
    with pytest.raises(InvalidInput) as caught:
        mloop.set_registry_uri("postgresql://ana:s3cret@db/mloop")
    assert "s3cret" not in str(caught.value) and "ana:***@db" in str(caught.value)
    with pytest.raises(InvalidInput, match="databricks"):
        mloop.set_registry_uri("databricks-uc")
    assert mloop.get_registry_uri() == f"sqlite:///{home}/mloop.db"
