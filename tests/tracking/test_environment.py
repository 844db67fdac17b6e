from __future__ import annotations

import subprocess
from pathlib import Path

from mloop.tracking.environment import capture_environment, git_state, redact_argv, source_tags


def test_capture_environment_lists_packages() -> None:
    env = capture_environment()
    assert len(env.digest) == 64
    assert any(line.lower().startswith("sqlalchemy==") for line in env.packages.splitlines())
    assert capture_environment() is env  # once per process


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _repo(path: Path, branch: str) -> Path:
    path.mkdir()
    _git(path, "init", "-q", "-b", branch)
    _git(
        path,
        "-c",
        "user.email=a@b",
        "-c",
        "user.name=a",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "x",
    )
    return path


def test_git_state(tmp_path: Path) -> None:
    assert git_state(str(tmp_path), max_age=0) == {}
    repo = _repo(tmp_path / "repo", "main")
    (repo / "f.txt").write_text("1")
    _git(repo, "add", "f.txt")
    state = git_state(str(repo), max_age=0)
    assert state["branch"] == "main"
    assert len(state["commit"]) == 40
    assert state["dirty"] == "true"
    assert git_state(str(_repo(tmp_path / "clean", "dev")), max_age=0)["dirty"] == "false"


def test_redact_argv() -> None:
    assert redact_argv(["x", "--password", "p", "--db-token=t", "-v", "--lr", "1"]) == [
        "x",
        "--password",
        "***REDACTED***",
        "--db-token=***REDACTED***",
        "-v",
        "--lr",
        "1",
    ]


def test_source_tags() -> None:
    tags = source_tags()
    assert {
        "mloop.source.name",
        "mloop.source.command",
        "mloop.python_version",
        "mloop.platform",
    } <= set(tags)
