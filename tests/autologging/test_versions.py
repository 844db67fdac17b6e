"""Library versions outside the tested range warn, or keep autologging off when asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from mloop.autologging import sklearn, state, versions
from mloop.errors import MloopWarning


def test_in_range_compares_major_and_minor() -> None:
    assert versions.in_range("1.9.1", ("1.0", "1.9"))
    assert not versions.in_range("2.0.0", ("1.0", "1.9"))
    assert versions.in_range("3.2.0rc1", ("1.6", "3.2"))


def test_an_untested_version_warns_and_is_patched(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(versions.SUPPORTED, "sklearn", ("0.1", "0.2"))
    with pytest.warns(MloopWarning, match="tested with sklearn 0.1 to 0.2"):
        sklearn.autolog()
    assert state.enabled() == ["sklearn"]


def test_disable_for_unsupported_versions_keeps_it_off(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(versions.SUPPORTED, "sklearn", ("0.1", "0.2"))
    with pytest.warns(MloopWarning, match="it stays off"):
        sklearn.autolog(disable_for_unsupported_versions=True)
    assert state.enabled() == []
