"""The public face: every exported name exists, is documented, and import stays light."""

from __future__ import annotations

import inspect
import subprocess
import sys

import mloop


def test_all_is_sorted_and_exists() -> None:
    assert mloop.__all__ == sorted(mloop.__all__)
    for name in mloop.__all__:
        assert hasattr(mloop, name), name


def test_exported_names_are_documented() -> None:
    for name in mloop.__all__:
        obj = getattr(mloop, name)
        if name.startswith("__"):
            continue
        doc = inspect.getdoc(obj)
        assert doc and len(doc) > 10, f"mloop.{name} has no docstring"


HEAVY = [
    "pandas",
    "sqlalchemy",
    "alembic",
    "pyarrow",
    "sklearn",
    "ray",
    "torch",
    "psycopg",
    "numpy",
]


def test_import_mloop_pulls_in_no_heavy_library() -> None:
    code = f"import sys, mloop; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
