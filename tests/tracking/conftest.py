from __future__ import annotations

from pathlib import Path

import pytest

import mloop


@pytest.fixture
def client(home: Path) -> mloop.Client:
    return mloop.Client()
