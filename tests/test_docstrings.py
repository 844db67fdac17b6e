"""The examples in every package's docstrings run, each module in a fresh store.

The models package has its own (tests/models/test_docstrings.py); Alembic's
migration scripts run only inside Alembic, and ``mloop.__main__`` is the
command line itself.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import mloop

# __main__ runs the command line when imported.
SKIPPED = ("mloop.store.migrations", "mloop.models", "mloop.__main__")

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(mloop.__path__, prefix="mloop.")
    if not info.name.startswith(SKIPPED)
)


@pytest.mark.parametrize("name", ["mloop", *MODULES])
def test_examples_run(name: str, home: Path) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} example(s) of {name} failed"
