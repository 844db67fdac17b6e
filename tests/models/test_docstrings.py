"""The examples in the models package's docstrings run, each module in a fresh store."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import mloop.models

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(mloop.models.__path__, prefix="mloop.models.")
)


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name: str, home: Path) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} example(s) of {name} failed"
