"""The context: built once, reused, and the only place the acting identity comes from."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import mloop
from mloop.config import load_settings
from mloop.context import Context, Identity
from mloop.context.defaults import default_context
from mloop.context.opening import open_context
from mloop.errors import InvalidInput


def _register() -> None:
    model = LogisticRegression().fit(np.array([[0.0], [1.0]]), np.array([0, 1]))
    mloop.models.log_model(model, "model", registered_model_name="credit")


def test_the_default_context_is_built_once_and_follows_changes(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = default_context()
    assert default_context() is first
    assert first.project == "default"
    mloop.set_project("fraud")
    moved = default_context()
    assert moved is not first and moved.project == "fraud"
    assert moved.stores.uri == first.stores.uri
    mloop.set_project(None)
    monkeypatch.setenv("MLOOP_USER", "carol")
    assert default_context().actor == Identity("carol")


def test_settings_are_not_read_again_on_a_hot_path(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register()
    mloop.models.load("models:/credit/1")
    reads = []
    import mloop.config as config

    real = config.load_settings
    monkeypatch.setattr(config, "load_settings", lambda *a, **k: reads.append(1) or real(*a, **k))
    for _ in range(20):
        mloop.models.load("models:/credit/1")
        mloop.log_metric("m", 1.0) if mloop.active_run() else None
    assert reads == []


def test_the_actor_comes_from_the_context(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOOP_USER", "ana")
    _register()
    assert mloop.models.get_version("credit/1").created_by == "ana"
    service = default_context().acting_as(Identity("ci-bot", kind="service"))
    monkeypatch.setenv("MLOOP_USER", "mallory")  # the environment does not decide for a context
    mloop.models.approve("credit", 1, context=service)
    mloop.models.set_alias("credit", "champion", 1, context=service)
    assert [d.actor for d in mloop.models.decisions("credit", 1)] == ["ci-bot"]
    assert [c.actor for c in mloop.models.alias_history("credit", "champion")] == ["ci-bot"]
    mloop.models.reject("credit", 1)  # the default context: MLOOP_USER now
    actors = sorted(d.actor for d in mloop.models.decisions("credit", 1))
    assert actors == ["ci-bot", "mallory"]


def test_an_explicit_context_reaches_its_own_project(home: Path, tmp_path: Path) -> None:
    ctx = open_context(load_settings(), project="audit")
    assert isinstance(ctx, Context)
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "f.txt").write_text("hello")
    mloop.data.add(folder, name="logs", context=ctx)
    assert [d.name for d in mloop.data.datasets(context=ctx)] == ["logs"]
    assert mloop.data.datasets() == []  # the default context is in project default
    assert mloop.Client(context=ctx).project == "audit"


def test_identities_are_checked() -> None:
    with pytest.raises(InvalidInput, match="name"):
        Identity("")
    with pytest.raises(InvalidInput, match="kind"):
        Identity("x", kind="robot")


def test_explicit_settings_keep_their_project(home: Path) -> None:
    import dataclasses

    mloop.set_project("b")
    explicit = dataclasses.replace(load_settings(), project="a")
    assert mloop.Client(settings=explicit).project == "a"
    assert mloop.Client().project == "b"


def test_log_model_registers_in_the_contexts_project_as_its_actor(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOOP_USER", "alice")
    bot = default_context().in_project("fraud").acting_as(Identity("ci-bot", kind="service"))
    model = LogisticRegression().fit(np.array([[0.0], [1.0]]), np.array([0, 1]))
    info = mloop.models.log_model(model, "model", registered_model_name="credit", context=bot)
    assert info.registered_version is not None
    version = mloop.models.get_version("credit/1", context=bot)
    assert version.created_by == "ci-bot"
    assert mloop.models.list_models() == []  # not in project default
    mloop.end_run()


def test_log_model_refuses_a_context_of_another_store(home: Path, tmp_path: Path) -> None:
    other = open_context(
        load_settings(environ={"MLOOP_HOME": str(tmp_path / "other")}, cwd=tmp_path)
    )
    model = LogisticRegression().fit(np.array([[0.0], [1.0]]), np.array([0, 1]))
    with pytest.raises(InvalidInput, match="active run"):
        mloop.models.log_model(model, "model", context=other)
