"""The public face: ``__all__`` is complete both ways, typed, documented, and import stays light."""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
import types
from pathlib import Path

import pytest

import mloop
import mloop.data
import mloop.lightgbm
import mloop.models
import mloop.onnx
import mloop.pipelines
import mloop.pyfunc
import mloop.pytorch
import mloop.sklearn
import mloop.xgboost

FACES = [mloop, mloop.data, mloop.models, mloop.pipelines]
FLAVOR_MODULES = ["lightgbm", "onnx", "pyfunc", "pytorch", "sklearn", "xgboost"]


def _public_attributes(module: types.ModuleType) -> set[str]:
    # Submodules bound by the import system (mloop.tracking, mloop.data.api ...) are
    # not names of the face unless __all__ lists them (mloop.data is one).
    listed = set(module.__all__)
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and (name in listed or not inspect.ismodule(value))
    }


@pytest.mark.parametrize("module", FACES, ids=lambda m: m.__name__)
def test_all_is_sorted_and_every_name_resolves(module: types.ModuleType) -> None:
    assert module.__all__ == sorted(module.__all__)
    assert len(set(module.__all__)) == len(module.__all__)
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{module.__name__}.{name}"


@pytest.mark.parametrize("module", FACES, ids=lambda m: m.__name__)
def test_every_public_attribute_is_listed(module: types.ModuleType) -> None:
    for name in module.__all__:  # load the lazy names first: they join the module's globals
        getattr(module, name)
    assert _public_attributes(module) == set(module.__all__) - {"__version__"}


@pytest.mark.parametrize("module", FACES, ids=lambda m: m.__name__)
def test_exported_names_are_documented(module: types.ModuleType) -> None:
    for name in module.__all__:
        if name.startswith("__"):
            continue
        doc = inspect.getdoc(getattr(module, name))
        assert doc and len(doc) > 10, f"{module.__name__}.{name} has no docstring"


def _type_checking_names(source: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(source.read_text()).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom):
                    for alias in statement.names:
                        assert alias.asname == alias.name, "re-export as `import x as x`"
                        names.add(alias.name)
                elif isinstance(statement, ast.AnnAssign):
                    assert isinstance(statement.target, ast.Name)
                    names.add(statement.target.id)
    return names


def test_type_checkers_see_every_lazy_name() -> None:
    seen = _type_checking_names(Path(mloop.__file__))
    assert seen == set(mloop.__all__)
    assert set(mloop._LAZY) | {"__version__"} == set(mloop.__all__)


def test_lazy_names_are_the_real_objects() -> None:
    from mloop.entities import Run
    from mloop.tracking import fluent

    assert mloop.Run is Run
    assert mloop.log_metric is fluent.log_metric
    assert mloop.step is mloop.pipelines.step
    assert mloop.evaluate is mloop.models.evaluate
    assert isinstance(mloop.__version__, str) and mloop.__version__
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = mloop.nope  # type: ignore[attr-defined]


HEAVY = [
    "alembic",
    "fsspec",
    "lightgbm",
    "numpy",
    "onnx",
    "onnxruntime",
    "pandas",
    "psycopg",
    "pyarrow",
    "ray",
    "skops",
    "sklearn",
    "sqlalchemy",
    "torch",
    "xgboost",
]


def test_import_mloop_pulls_in_no_heavy_library() -> None:
    code = f"import sys, mloop; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


MODEL_LIBRARIES = ["lightgbm", "onnx", "onnxruntime", "skops", "sklearn", "torch", "xgboost"]


def test_flavor_modules_load_their_library_only_when_used() -> None:
    code = (
        "import sys, mloop; "
        f"names = [getattr(mloop, n).__name__ for n in {FLAVOR_MODULES!r}]; "
        f"print(','.join(m for m in {MODEL_LIBRARIES!r} if m in sys.modules)); "
        "print(','.join(names))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded, names = out.stdout.split("\n")[:2]
    assert loaded == "", f"reaching the flavor modules imported {loaded}"
    assert names.split(",") == [f"mloop.{name}" for name in FLAVOR_MODULES]


@pytest.mark.parametrize("name", FLAVOR_MODULES)
def test_a_flavor_module_is_the_same_by_import_or_by_attribute(name: str) -> None:
    module = importlib.import_module(f"mloop.{name}")
    assert getattr(mloop, name) is module
    assert {"load_model", "log_model", "save_model"} <= set(module.__all__)
    assert module.__all__ == sorted(module.__all__)
    for exported in module.__all__:
        doc = inspect.getdoc(getattr(module, exported))
        assert doc and len(doc) > 10, f"mloop.{name}.{exported} has no docstring"
