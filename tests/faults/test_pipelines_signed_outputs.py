"""A model passed between pipeline steps is verified like every other model load.

With a trusted key, a step's model output is signed; a replaced output (a
self-consistent package of another model, in the store or in the local copy)
is refused with IntegrityError before any of its code runs.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from pathlib import Path

import pytest

import mloop
from mloop.errors import IntegrityError, PipelineFailed
from mloop.models import ModelContext, PythonModel
from mloop.pipelines.model_materializers import MODEL
from mloop.pipelines.runner import step_runs

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


def test_a_replaced_local_copy_of_a_step_output_is_refused(marker: Path, tmp_path: Path) -> None:
    assert honest_flow.run().output("use") == 1
    assert honest_flow.run().output("use") == 1  # make's output read back from the store
    copies = [
        p.parent for p in (Path(os.environ["MLOOP_HOME"]) / "models").rglob("mloop-model.yaml")
    ]
    assert len(copies) == 1
    evil = _evil_package(tmp_path)
    for path in copies[0].iterdir():
        path.chmod(0o644)
        path.unlink() if path.is_file() else shutil.rmtree(path)
    for path in evil.iterdir():
        shutil.copy(path, copies[0] / path.name)
    mloop.models.clear_cache()
    with pytest.raises(PipelineFailed, match="IntegrityError") as info:
        honest_flow.run()  # make is served from the cache, use loads the replaced copy
    client = mloop.Client()
    error = client.load_text(_use_run(info.value.run_id), "logs/attempt-1/error.txt")
    assert "were replaced; nothing of them was loaded" in error
    assert str(copies[0]) in error
    assert not marker.exists()


def _use_run(pipeline_run_id: str) -> str:
    client = mloop.Client()
    (use_run,) = [
        r for r in step_runs(client, client.get_run(pipeline_run_id)) if r.info.run_name == "use"
    ]
    return use_run.info.run_id


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
