"""Two versions shipping modules of the same name run each their own code, side by side."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

import mloop

GATE = textwrap.dedent(
    """
    import thresh
    from mloop.models import PythonModel

    VERSION = {version}

    class Gate(PythonModel):
        def predict(self, model_input):
            return [VERSION * 100 + thresh.cut(x) for x in model_input["x"]]
    """
)
THRESH = "def cut(x):\n    return int(x > {cut})\n"


def _save(tmp_path: Path, version: int, cut: float) -> Path:
    """Save a package from its own source folder, then forget the modules (as a new process)."""
    source = tmp_path / f"src{version}"
    source.mkdir()
    (source / "gate_model.py").write_text(GATE.format(version=version))
    (source / "thresh.py").write_text(THRESH.format(cut=cut))
    sys.path.insert(0, str(source))
    try:
        import gate_model  # type: ignore[import-not-found]

        target = tmp_path / f"pkg{version}"
        mloop.models.save(
            gate_model.Gate(),
            target,
            code_paths=[source / "gate_model.py", source / "thresh.py"],
            input_example={"x": [0.5]},
        )
    finally:
        sys.path.remove(str(source))
        for name in ("gate_model", "thresh"):
            sys.modules.pop(name, None)
    return target


@pytest.fixture
def packages(home: Path, tmp_path: Path) -> tuple[Path, Path]:
    return _save(tmp_path, 1, 0.2), _save(tmp_path, 2, 0.8)


def test_two_versions_loaded_at_once_each_run_their_own_code(
    packages: tuple[Path, Path],
) -> None:
    one, two = (mloop.models.load(p) for p in packages)
    for _ in range(3):  # alternately, both alive
        assert one.predict({"x": [0.5]}) == [101]  # v1: its module and its cut (0.2)
        assert two.predict({"x": [0.5]}) == [200]  # v2: its module and its cut (0.8)
    assert "thresh" not in sys.modules and "gate_model" not in sys.modules
    assert not any(p.endswith("/code") for p in sys.path)
    digest = one.digest[:12]
    assert sys.modules[f"mloop_pkg_{digest}.thresh"].cut(0.5) == 1


def test_registered_versions_each_run_their_own_code(packages: tuple[Path, Path]) -> None:
    for package in packages:
        mloop.models.register(package, "gate")
    mloop.models.clear_cache()
    one = mloop.models.load("models:/gate/1")
    two = mloop.models.load("models:/gate/2")
    assert (one.predict({"x": [0.5]}), two.predict({"x": [0.5]})) == ([101], [200])
    assert one.predict({"x": [0.5]}) == [101]


def test_a_process_module_of_the_same_name_is_left_alone(
    packages: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thresh.py").write_text("def cut(x):\n    return 'mine'\n")
    monkeypatch.syspath_prepend(str(mine))
    import thresh  # type: ignore[import-not-found]

    try:
        loaded = mloop.models.load(packages[1])
        assert loaded.predict({"x": [0.9]}) == [201]
        assert sys.modules["thresh"] is thresh and thresh.cut(1) == "mine"
    finally:
        sys.modules.pop("thresh", None)


def test_loading_writes_no_bytecode_into_the_package(packages: tuple[Path, Path]) -> None:
    mloop.models.load(packages[0])
    assert not list(packages[0].rglob("__pycache__"))
    mloop.models.clear_cache()
    mloop.models.load(packages[0])  # its files are still exactly the manifest's


OUTER = textwrap.dedent(
    """
    import thresh
    from mloop.models import PythonModel

    class OuterGate(PythonModel):
        def predict(self, model_input):
            return [thresh.cut(x) for x in model_input["x"]]
    """
)


def test_an_installed_model_module_uses_each_package_s_shipped_helper(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = tmp_path / "installed"
    installed.mkdir()
    (installed / "outer_gate.py").write_text(OUTER)
    monkeypatch.syspath_prepend(str(installed))
    packages = []
    for version, cut in ((1, 0.2), (2, 0.8)):
        helper = tmp_path / f"helper{version}"
        helper.mkdir()
        (helper / "thresh.py").write_text(THRESH.format(cut=cut))
        sys.path.insert(0, str(helper))
        try:
            import outer_gate  # type: ignore[import-not-found]

            target = tmp_path / f"outer{version}"
            mloop.models.save(outer_gate.OuterGate(), target, code_paths=[helper / "thresh.py"])
            packages.append(target)
        finally:
            sys.path.remove(str(helper))
            for name in ("outer_gate", "thresh"):
                sys.modules.pop(name, None)
    one, two = (mloop.models.load(p) for p in packages)
    assert (one.predict({"x": [0.5]}), two.predict({"x": [0.5]})) == ([1], [0])
    assert one.predict({"x": [0.5]}) == [1]
