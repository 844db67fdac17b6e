from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest

from mloop import plugins
from mloop.errors import InvalidInput
from mloop.plugins import Registry, load_target

GROUP = "mloop.testplugins"
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


class _FakeEntryPoints:
    """Stands in for ``importlib.metadata.entry_points``, counting calls."""

    def __init__(self, *entries: tuple[str, str]) -> None:
        self.entries = [metadata.EntryPoint(name, value, GROUP) for name, value in entries]
        self.calls: list[str] = []

    def __call__(self, *, group: str) -> list[metadata.EntryPoint]:
        self.calls.append(group)
        return [e for e in self.entries if e.group == group]


@pytest.fixture
def fake_entry_points(monkeypatch: pytest.MonkeyPatch) -> _FakeEntryPoints:
    fake = _FakeEntryPoints(("from_ep", "json:loads"), ("dumps", "json:loads"))
    monkeypatch.setattr(plugins.metadata, "entry_points", fake)
    return fake


@pytest.fixture
def lazy_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A throwaway importable module that is not imported yet."""
    name = f"mloop_lazy_plugin_{os.getpid()}_{tmp_path.name}".replace("-", "_")
    (tmp_path / f"{name}.py").write_text("VALUE = object()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_load_builtin() -> None:
    registry = Registry(GROUP, {"dumps": "json:dumps"})
    assert registry.load("dumps") is json.dumps
    assert registry.load("dumps")({"a": 1}) == '{"a": 1}'


def test_builtins_are_imported_only_when_loaded(lazy_module: str) -> None:
    registry = Registry(GROUP, {"lazy": f"{lazy_module}:VALUE"})
    assert lazy_module not in sys.modules
    assert "lazy" in registry.names()
    assert lazy_module not in sys.modules
    value = registry.load("lazy")
    assert lazy_module in sys.modules
    assert value is sys.modules[lazy_module].VALUE
    assert registry.load("lazy") is value


def test_target_without_attribute_loads_the_module() -> None:
    registry = Registry(GROUP, {"json": "json"})
    assert registry.load("json") is json


def test_unknown_name_lists_known_names(fake_entry_points: _FakeEntryPoints) -> None:
    registry = Registry(GROUP, {"b": "json:dumps", "a": "json:loads"})
    with pytest.raises(InvalidInput) as info:
        registry.load("nope")
    message = str(info.value)
    assert "'nope'" in message
    assert GROUP in message
    assert "known: a, b, dumps, from_ep" in message


def test_unknown_name_with_no_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plugins.metadata, "entry_points", _FakeEntryPoints())
    with pytest.raises(InvalidInput, match=r"unknown mloop\.testplugins plugin 'x'"):
        Registry(GROUP).load("x")


def test_register_adds_a_name() -> None:
    registry = Registry(GROUP)
    registry.register("dumps", "json:dumps")
    assert registry.load("dumps") is json.dumps


def test_register_overrides_a_loaded_builtin() -> None:
    registry = Registry(GROUP, {"codec": "json:dumps"})
    assert registry.load("codec") is json.dumps
    registry.register("codec", "json:loads")
    assert registry.load("codec") is json.loads


def test_builtins_dict_is_copied() -> None:
    builtins = {"codec": "json:dumps"}
    registry = Registry(GROUP, builtins)
    registry.register("other", "json:loads")
    assert builtins == {"codec": "json:dumps"}


def test_entry_points_are_read_for_unknown_names(fake_entry_points: _FakeEntryPoints) -> None:
    registry = Registry(GROUP, {"dumps": "json:dumps"})
    assert registry.load("from_ep") is json.loads
    assert fake_entry_points.calls == [GROUP]


def test_entry_points_are_not_read_for_builtins(fake_entry_points: _FakeEntryPoints) -> None:
    registry = Registry(GROUP, {"codec": "json:dumps"})
    assert registry.load("codec") is json.dumps
    assert fake_entry_points.calls == []


def test_knows_reads_entry_points_only_for_names_not_built_in(
    fake_entry_points: _FakeEntryPoints,
) -> None:
    registry = Registry(GROUP, {"codec": "json:dumps"})
    assert registry.knows("codec")
    assert fake_entry_points.calls == []
    assert registry.knows("from_ep")
    assert not registry.knows("missing")
    assert fake_entry_points.calls == [GROUP]


def test_entry_points_are_read_once(fake_entry_points: _FakeEntryPoints) -> None:
    registry = Registry(GROUP)
    for _ in range(2):
        with pytest.raises(InvalidInput):
            registry.load("missing")
    registry.names()
    assert fake_entry_points.calls == [GROUP]


def test_builtins_win_over_entry_points(fake_entry_points: _FakeEntryPoints) -> None:
    registry = Registry(GROUP, {"dumps": "json:dumps"})
    assert registry.names() == ["dumps", "from_ep"]
    assert registry.load("dumps") is json.dumps


def test_register_wins_over_entry_points(fake_entry_points: _FakeEntryPoints) -> None:
    registry = Registry(GROUP)
    registry.register("from_ep", "json:dumps")
    assert registry.load("from_ep") is json.dumps
    registry.names()
    assert registry.load("from_ep") is json.dumps


def test_names_are_sorted_and_include_entry_points(fake_entry_points: _FakeEntryPoints) -> None:
    registry = Registry(GROUP, {"zeta": "json:dumps", "alpha": "json:loads"})
    assert registry.names() == ["alpha", "dumps", "from_ep", "zeta"]


def test_load_target() -> None:
    assert load_target("os.path:join")("a", "b") == os.path.join("a", "b")
    assert load_target("json") is json


def test_load_target_missing_module() -> None:
    with pytest.raises(ModuleNotFoundError):
        load_target("mloop_no_such_module_xyz:thing")


def test_load_target_dotted_attribute() -> None:
    assert load_target("os:path.join") is os.path.join


def test_builtin_store_targets_resolve() -> None:
    from mloop.store.registry import store_factories

    assert store_factories.names()
    for name in store_factories.names():
        assert callable(store_factories.load(name))
