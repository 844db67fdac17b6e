"""What a run ran on: git state, entry point, command line, Python, platform, packages.

Captured once per process (git state once per working directory) and stored
once per distinct environment, so run creation stays cheap.

Example:
    >>> env = capture_environment()
    >>> env.python_version.count(".")
    2
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import shlex
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from mloop.store.protocols.tracking import Environment
from mloop.tracking.redaction import REDACTED, looks_secret, redact_text

TAG_PREFIX = "mloop."
GIT_TIMEOUT_SECONDS = 5.0
GIT_CACHE_SECONDS = 5.0


def _package(dist: metadata.Distribution) -> str | None:
    # The metadata folder is named name-version: reading that is a hundred times
    # faster than parsing every package's METADATA file.
    folder = Path(str(getattr(dist, "_path", "")))
    for suffix in (".dist-info", ".egg-info"):
        if folder.name.endswith(suffix) and "-" in folder.name:
            name, _, version = folder.name.removesuffix(suffix).partition("-")
            return f"{name}=={version}"
    name = dist.metadata["Name"]
    return f"{name}=={dist.version}" if name else None


@functools.cache
def capture_environment() -> Environment:
    """Python version, platform and installed packages (``name==version``, sorted)."""
    found = {_package(dist) for dist in metadata.distributions()}
    packages = sorted((p for p in found if p), key=str.lower)
    text = "\n".join(packages)
    python_version = platform.python_version()
    system = platform.platform()
    digest = hashlib.sha256(f"{python_version}\n{system}\n{text}".encode()).hexdigest()
    return Environment(digest, python_version, system, text)


_git_cache: dict[str, tuple[float, dict[str, str]]] = {}


def git_state(directory: str, max_age: float = GIT_CACHE_SECONDS) -> dict[str, str]:
    """Commit, branch and dirty flag of the repository holding ``directory`` ({} outside git).

    Read at most once per ``max_age`` seconds per folder: a notebook that edits
    code sees the dirty flag change, and a loop creating hundreds of runs a
    second does not start hundreds of git processes.
    """
    now = time.monotonic()
    cached = _git_cache.get(directory)
    if cached is not None and now - cached[0] < max_age:
        return dict(cached[1])
    state = _read_git_state(directory)
    _git_cache[directory] = (now, state)
    return dict(state)


def _read_git_state(directory: str) -> dict[str, str]:
    try:
        result = subprocess.run(
            ["git", "status", "--porcelain=v2", "--branch", "--untracked-files=no"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if result.returncode != 0:
        return {}
    state: dict[str, str] = {}
    dirty = False
    for line in result.stdout.splitlines():
        if line.startswith("# branch.oid "):
            commit = line.removeprefix("# branch.oid ")
            if commit != "(initial)":
                state["commit"] = commit
        elif line.startswith("# branch.head "):
            state["branch"] = line.removeprefix("# branch.head ")
        elif not line.startswith("#"):
            dirty = True
    if state:
        state["dirty"] = "true" if dirty else "false"
    return state


def redact_argv(argv: list[str]) -> list[str]:
    """A command line with its secrets hidden, argument by argument.

    The value of a secret-looking option (``--password x``, ``--db-url x``,
    ``--token=x``) is hidden whole; every other argument goes through the
    value rules of :func:`~mloop.tracking.redaction.redact_text` (a URL's
    password, ``token=x``, well-known token shapes). Short options such as
    ``-p`` are not interpreted.

    Example:
        >>> redact_argv(["train.py", "--api-key", "abc", "--lr=0.1", "--token=xyz"])
        ['train.py', '--api-key', '***REDACTED***', '--lr=0.1', '--token=***REDACTED***']
        >>> redact_argv(["train.py", "db.password=hunter2", "--db", "redis://:pw@cache/0"])
        ['train.py', 'db.password=***REDACTED***', '--db', 'redis://:***@cache/0']
    """
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        if arg.startswith("-"):
            name, eq, _ = arg.lstrip("-").partition("=")
            if looks_secret(name):
                if eq:
                    out.append(f"{arg.split('=', 1)[0]}={REDACTED}")
                    continue
                hide_next = True
        out.append(redact_text(arg))
    return out


def _entry_point() -> str:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None) or (sys.argv[0] if sys.argv else "")
    return str(Path(path).resolve()) if path and not path.startswith("<") else "<interactive>"


@functools.cache
def _process_tags(argv: tuple[str, ...]) -> tuple[dict[str, str], str]:
    # What cannot change while a process runs: computed once per command line.
    entry = _entry_point()
    directory = str(Path(entry).parent) if entry != "<interactive>" else os.getcwd()
    tags = {
        "mloop.source.name": entry,
        "mloop.source.command": shlex.join(redact_argv(list(argv))),
        "mloop.python_version": platform.python_version(),
        "mloop.platform": platform.platform(),
    }
    return tags, directory if Path(directory).is_dir() else os.getcwd()


def source_tags() -> dict[str, str]:
    """System tags (``mloop.*``) describing where and how this run was started."""
    static, directory = _process_tags(tuple(sys.argv))
    tags = dict(static)
    for key, value in git_state(directory).items():
        tags[f"mloop.source.git.{key}"] = value
    return tags
