from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mloop.config import Settings, load_settings
from mloop.errors import InvalidInput


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder whose pyproject.toml has no [tool.mloop] (so the search stops here)."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    return tmp_path


def write_tool_table(folder: Path, body: str) -> None:
    (folder / "pyproject.toml").write_text(f'[project]\nname = "demo"\n\n[tool.mloop]\n{body}\n')


def test_defaults(project: Path) -> None:
    settings = load_settings(environ={}, cwd=project)
    assert settings == Settings()
    assert settings.home == Path(".mloop")
    assert settings.tracking_uri is None
    assert settings.artifacts_uri is None
    assert settings.flush_interval == 0.5
    assert settings.batch_size == 20_000
    assert settings.max_pending == 200_000
    assert settings.capture_environment is True
    assert settings.gc_grace_seconds == 3600.0


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().batch_size = 1  # type: ignore[misc]


def test_every_field_names_its_variable_and_is_documented() -> None:
    for field in dataclasses.fields(Settings):
        assert field.metadata["env"] == f"MLOOP_{field.name.upper()}"
        assert field.metadata["doc"]


def test_reads_os_environ_and_cwd_by_default(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    monkeypatch.setenv("MLOOP_BATCH_SIZE", "7")
    write_tool_table(project, "max-pending = 9")
    settings = load_settings()
    assert (settings.batch_size, settings.max_pending) == (7, 9)


def test_tool_table_in_a_parent_directory(project: Path) -> None:
    write_tool_table(
        project,
        'tracking-uri = "sqlite:///t.db"\nflush_interval = 2\ncapture-environment = false',
    )
    child = project / "src" / "pkg"
    child.mkdir(parents=True)
    settings = load_settings(environ={}, cwd=child)
    assert settings.tracking_uri == "sqlite:///t.db"
    assert settings.flush_interval == 2.0
    assert isinstance(settings.flush_interval, float)
    assert settings.capture_environment is False


def test_nearest_pyproject_wins(project: Path) -> None:
    write_tool_table(project, "batch-size = 1")
    child = project / "sub"
    child.mkdir()
    write_tool_table(child, "batch-size = 2")
    assert load_settings(environ={}, cwd=child).batch_size == 2


def test_environment_overrides_tool_table(project: Path) -> None:
    write_tool_table(project, "batch-size = 1\ngc-grace-seconds = 10")
    settings = load_settings(
        environ={"MLOOP_BATCH_SIZE": "5", "MLOOP_GC_GRACE_SECONDS": ""}, cwd=project
    )
    assert settings.batch_size == 5
    # An empty variable counts as unset.
    assert settings.gc_grace_seconds == 10.0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        (" on ", True),
        ("0", False),
        ("False", False),
        ("no", False),
        ("off", False),
    ],
)
def test_bool_parsing(project: Path, raw: str, expected: bool) -> None:
    settings = load_settings(environ={"MLOOP_CAPTURE_ENVIRONMENT": raw}, cwd=project)
    assert settings.capture_environment is expected


def test_int_and_float_parsing(project: Path) -> None:
    settings = load_settings(
        environ={
            "MLOOP_BATCH_SIZE": "12",
            "MLOOP_MAX_PENDING": "34",
            "MLOOP_FLUSH_INTERVAL": "0.25",
            "MLOOP_GC_GRACE_SECONDS": "1e2",
        },
        cwd=project,
    )
    assert settings.batch_size == 12
    assert settings.max_pending == 34
    assert settings.flush_interval == 0.25
    assert settings.gc_grace_seconds == 100.0


def test_home_expands_user(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(project))
    settings = load_settings(environ={"MLOOP_HOME": "~/store"}, cwd=project)
    assert settings.home == project / "store"


@pytest.mark.parametrize(
    ("variable", "raw", "expected"),
    [
        ("MLOOP_BATCH_SIZE", "many", "int"),
        ("MLOOP_BATCH_SIZE", "1.5", "int"),
        ("MLOOP_MAX_PENDING", "", None),
        ("MLOOP_FLUSH_INTERVAL", "soon", "float"),
        ("MLOOP_GC_GRACE_SECONDS", "1h", "float"),
        ("MLOOP_CAPTURE_ENVIRONMENT", "maybe", "bool"),
    ],
)
def test_invalid_environment_value_names_the_variable(
    project: Path, variable: str, raw: str, expected: str | None
) -> None:
    if expected is None:  # empty means unset, not invalid
        assert load_settings(environ={variable: raw}, cwd=project) == Settings()
        return
    with pytest.raises(InvalidInput) as info:
        load_settings(environ={variable: raw}, cwd=project)
    message = str(info.value)
    assert variable in message
    assert repr(raw) in message
    assert f"expected {expected}" in message


def test_invalid_tool_value_names_the_table_and_setting(project: Path) -> None:
    write_tool_table(project, 'batch-size = "lots"')
    with pytest.raises(InvalidInput) as info:
        load_settings(environ={}, cwd=project)
    message = str(info.value)
    assert "[tool.mloop]" in message
    assert "'batch_size'" in message
    assert "'lots'" in message


def test_unknown_tool_key(project: Path) -> None:
    write_tool_table(project, 'trackin-uri = "sqlite:///x.db"')
    with pytest.raises(InvalidInput) as info:
        load_settings(environ={}, cwd=project)
    message = str(info.value)
    assert "trackin-uri" in message
    assert "[tool.mloop]" in message
    assert "tracking_uri" in message  # the known names are listed


def test_invalid_toml(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.mloop\nhome = ")
    with pytest.raises(InvalidInput) as info:
        load_settings(environ={}, cwd=project)
    assert str(project / "pyproject.toml") in str(info.value)
    assert "not valid TOML" in str(info.value)


def test_invalid_toml_is_ignored_when_not_searched(project: Path) -> None:
    (project / "pyproject.toml").write_text("[[[")
    elsewhere = project / "inner"
    elsewhere.mkdir()
    (elsewhere / "pyproject.toml").write_text("")
    assert load_settings(environ={}, cwd=elsewhere) == Settings()


def test_tool_that_is_not_a_table(project: Path) -> None:
    (project / "pyproject.toml").write_text("tool = 1\n")
    with pytest.raises(InvalidInput):
        load_settings(environ={}, cwd=project)


def test_resolved_uris_default_under_home(project: Path) -> None:
    settings = load_settings(environ={"MLOOP_HOME": str(project / "h")}, cwd=project)
    assert settings.resolved_tracking_uri() == f"sqlite:///{project}/h/mloop.db"
    assert settings.resolved_artifacts_uri() == str(project / "h" / "artifacts")


def test_resolved_uris_of_relative_home_are_absolute(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    settings = load_settings(environ={}, cwd=project)
    assert settings.resolved_tracking_uri() == f"sqlite:///{project}/.mloop/mloop.db"
    assert settings.resolved_artifacts_uri() == str(project / ".mloop" / "artifacts")


def test_explicit_uris_win_over_home(project: Path) -> None:
    settings = load_settings(
        environ={
            "MLOOP_HOME": str(project / "h"),
            "MLOOP_TRACKING_URI": "postgresql+psycopg://u@db/x",
            "MLOOP_ARTIFACTS_URI": "memory://bucket",
        },
        cwd=project,
    )
    assert settings.resolved_tracking_uri() == "postgresql+psycopg://u@db/x"
    assert settings.resolved_artifacts_uri() == "memory://bucket"


def test_relative_home_from_parent_pyproject_is_relative_to_the_project(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tool_table(project, 'home = "store"')
    notebooks = project / "notebooks"
    notebooks.mkdir()
    monkeypatch.chdir(notebooks)
    settings = load_settings(environ={}, cwd=notebooks)
    assert settings.resolved_tracking_uri() == f"sqlite:///{project}/store/mloop.db"


def test_model_settings(project: Path) -> None:
    settings = load_settings(environ={}, cwd=project)
    assert (settings.user, settings.require_signatures, settings.model_cache_size) == (
        None,
        "auto",
        8,
    )
    assert settings.resolved_signing_key() == (Path(".mloop") / "keys" / "signing.pem").absolute()
    assert settings.resolved_user()  # the OS user
    env = {
        "MLOOP_USER": "ana",
        "MLOOP_SIGNING_KEY": "~/keys/k.pem",
        "MLOOP_REQUIRE_SIGNATURES": "true",
        "MLOOP_MODEL_CACHE_SIZE": "2",
    }
    settings = load_settings(environ=env, cwd=project)
    assert settings.resolved_user() == "ana"
    assert settings.resolved_signing_key() == Path("~/keys/k.pem").expanduser()
    assert (settings.require_signatures, settings.model_cache_size) == ("true", 2)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MLOOP_REQUIRE_SIGNATURES": "sometimes"}, "require_signatures must be auto"),
        ({"MLOOP_MODEL_CACHE_SIZE": "-1"}, "model_cache_size must be >= 0"),
        ({"MLOOP_MODEL_CACHE_SIZE": "many"}, "MLOOP_MODEL_CACHE_SIZE"),
    ],
)
def test_bad_model_settings(project: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        load_settings(environ=env, cwd=project)


def test_a_relative_signing_key_is_relative_to_the_project(project: Path) -> None:
    write_tool_table(project, 'signing-key = "secrets/signing.pem"')
    nested = project / "src"
    nested.mkdir()
    settings = load_settings(environ={}, cwd=nested)
    assert settings.resolved_signing_key() == project / "secrets" / "signing.pem"
