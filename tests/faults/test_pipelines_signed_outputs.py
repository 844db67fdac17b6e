"""A model passed between pipeline steps is verified like every other model load.

With a trusted key, a step's model output is signed; a replaced output (a
self-consistent package of another model, in the store or in the local copy)
is never loaded: a replaced output in the store is refused with IntegrityError before
any of its code runs, and a replaced local copy is unpacked again from the verified archive.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import tarfile
from pathlib import Path

import pytest
from sklearn.linear_model import LinearRegression

import mloop
from mloop.errors import IntegrityError
from mloop.models import ModelContext, PythonModel
from mloop.pipelines.model_materializers import MODEL

MARKER = "MLOOP_TEST_EVIL_MARKER"


class Honest(PythonModel):
    def predict(self, model_input: object) -> list[int]:
        return [1]


class Evil(PythonModel):
    def load_context(self, context: ModelContext) -> None:
        Path(os.environ[MARKER]).write_text("ran")  # must never happen

    def predict(self, model_input: object) -> list[int]:
        return [666]


@mloop.step
def make() -> Honest:
    return Honest()


@mloop.step(cache=False)
def use(model: Honest) -> int:
    return int(model.predict({"x": [1.0]})[0])


@mloop.pipeline
def honest_flow() -> None:
    use(make())


@pytest.fixture
def marker(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "evil-ran"
    monkeypatch.setenv(MARKER, str(path))
    mloop.models.init_keys()
    return path


def _evil_package(tmp_path: Path) -> Path:
    folder = tmp_path / "evil"
    mloop.models.save(Evil(), folder)
    return folder


def _tar(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.add(str(path), arcname=path.relative_to(folder).as_posix())
    return buffer.getvalue()


def _local_copy() -> Path:
    copies = [
        p.parent for p in (Path(os.environ["MLOOP_HOME"]) / "models").rglob("mloop-model.yaml")
    ]
    assert len(copies) == 1
    return copies[0]


def test_a_replaced_local_copy_of_a_step_output_is_never_loaded(
    marker: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert honest_flow.run().output("use") == 1
    assert honest_flow.run().output("use") == 1  # make's output read back from the store
    copy = _local_copy()
    evil = _evil_package(tmp_path)
    for path in copy.iterdir():
        path.chmod(0o644)
        path.unlink() if path.is_file() else shutil.rmtree(path)
    for path in evil.iterdir():
        shutil.copy(path, copy / path.name)
    mloop.models.clear_cache()
    with caplog.at_level(logging.WARNING):
        # make is served from the cache; use gets the package of the verified archive again
        assert honest_flow.run().output("use") == 1
    assert not marker.exists()
    assert f"{copy} was damaged (it holds package" in caplog.text


@pytest.mark.parametrize("damage", ["changed", "half-deleted"])
def test_a_damaged_local_copy_of_a_step_output_is_unpacked_again(
    marker: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    data = MODEL.dumps(LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]))
    assert MODEL.loads(data).predict([[3.0]]).round(3).tolist() == [3.0]
    copy = _local_copy()
    files = sorted(p for p in copy.rglob("*") if p.is_file() and p.name != "mloop-model.yaml")
    assert files
    for path in files:
        path.chmod(0o644)
        if damage == "changed":
            path.write_bytes(path.read_bytes()[:-1] + b"!")
        else:
            path.unlink()
    mloop.models.clear_cache()
    with caplog.at_level(logging.WARNING):
        for _ in range(2):
            assert MODEL.loads(data).predict([[3.0]]).round(3).tolist() == [3.0]
    assert caplog.text.count("unpacking it again from its archive") == 1  # repaired once
    assert not list(copy.parent.glob(".discard-*"))


def test_an_unsigned_step_output_is_refused_where_the_project_trusts_a_key(
    marker: Path, tmp_path: Path
) -> None:
    forged = _tar(_evil_package(tmp_path))
    with pytest.raises(IntegrityError, match="not signed"):
        MODEL.loads(forged)
    assert not marker.exists()


def test_a_signed_step_output_loads(marker: Path) -> None:
    data = MODEL.dumps(Honest())
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        assert "mloop-model.sig" in archive.getnames()
    assert MODEL.loads(data).predict({"x": [1.0]}) == [1]
