"""What every MLflow-named flavor module keeps (``mloop.sklearn`` …): one suite, subclassed per flavor.

A subclass names the module, builds a real trained model, says how its
native object predicts, what type ``load_model`` gives back, and a model of
another flavor (``other_model``) with the module that saves it.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mloop
import mloop.pyfunc
from mloop.errors import AlreadyExists, InvalidInput, NotFound

RUN_ID = "0123456789abcdef0123456789abcdef"


class FlavorModuleContract:
    """The shared suite; ``__test__ = False`` keeps pytest from collecting it on its own."""

    __test__ = False

    module: types.ModuleType
    flavor: str
    native_type: str  # the class name load_model gives back
    log_options: dict[str, Any] = {}  # noqa: RUF012 (read only)

    # -- what a subclass provides --------------------------------------------------------------

    def make_model(self) -> Any:
        raise NotImplementedError

    def predict(self, native: Any, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def other_model(self) -> tuple[types.ModuleType, Any]:
        raise NotImplementedError

    # -- shared data ---------------------------------------------------------------------------

    @pytest.fixture
    def x(self) -> np.ndarray:
        rng = np.random.default_rng(7)
        return rng.normal(size=(40, 3)).astype("float32")

    @pytest.fixture
    def model(self) -> Any:
        return self.make_model()

    def _same(self, model: Any, native: Any, x: np.ndarray) -> None:
        assert type(native).__name__ == self.native_type
        assert native is not model
        np.testing.assert_allclose(self.predict(native, x), self.predict(model, x), rtol=1e-6)

    # -- logging -------------------------------------------------------------------------------

    def test_log_with_name_loads_back_by_runs_uri(
        self, home: Path, model: Any, x: np.ndarray
    ) -> None:
        with mloop.start_run() as run:
            info = self.module.log_model(model, name="clf", input_example=x[:3], **self.log_options)
        assert info.model_uri == f"runs:/{run.info.run_id}/clf"
        assert (info.run_id, info.artifact_path, info.flavor) == (
            run.info.run_id,
            "clf",
            self.flavor,
        )
        assert info.registered_model_version is None
        assert set(info.flavors) == {self.flavor}
        assert info.signature is not None
        self._same(model, self.module.load_model(f"runs:/{run.info.run_id}/clf"), x)
        self._same(model, self.module.load_model(info), x)

    def test_log_with_artifact_path_as_mlflow_2_did(
        self, home: Path, model: Any, x: np.ndarray
    ) -> None:
        with mloop.start_run():
            info = self.module.log_model(model, "legacy", **self.log_options)
            second = self.module.log_model(model, artifact_path="nested/legacy", **self.log_options)
        assert info.artifact_path == "legacy"
        assert second.model_uri.endswith("/nested/legacy")
        self._same(model, self.module.load_model(info.model_uri), x)

    def test_without_a_name_each_model_gets_a_free_one(self, home: Path, model: Any) -> None:
        with mloop.start_run():
            first = self.module.log_model(model, **self.log_options)
            second = self.module.log_model(model, **self.log_options)
        assert (first.artifact_path, second.artifact_path) == ("model", "model-2")

    def test_registered_model_loads_by_version_and_alias(
        self, home: Path, model: Any, x: np.ndarray
    ) -> None:
        name = f"{self.flavor}-model"
        with mloop.start_run():
            info = self.module.log_model(
                model, name="m", registered_model_name=name, **self.log_options
            )
        assert info.registered_model_version == 1
        mloop.models.set_alias(name, "champion", 1)
        self._same(model, self.module.load_model(f"models:/{name}@champion"), x)
        self._same(model, self.module.load_model(f"models:/{name}/1"), x)

    def test_each_load_gives_an_object_of_its_own(self, home: Path, model: Any) -> None:
        with mloop.start_run():
            info = self.module.log_model(model, name="m", **self.log_options)
        assert self.module.load_model(info.model_uri) is not self.module.load_model(info.model_uri)

    def test_requirements_are_recorded_in_the_metadata(self, home: Path, model: Any) -> None:
        with mloop.start_run():
            info = self.module.log_model(
                model,
                name="m",
                metadata={"team": "risk"},
                extra_pip_requirements=["shap==0.45"],
                **self.log_options,
            )
        loaded = mloop.pyfunc.load_model(info.model_uri)
        assert dict(loaded.metadata) == {"team": "risk", "extra_pip_requirements": ["shap==0.45"]}

    # -- saving --------------------------------------------------------------------------------

    def test_save_and_load_round_trip(
        self, home: Path, tmp_path: Path, model: Any, x: np.ndarray
    ) -> None:
        self.module.save_model(model, tmp_path / "pkg", input_example=x[:2], **self.log_options)
        self._same(model, self.module.load_model(tmp_path / "pkg"), x)
        self._same(model, self.module.load_model(str(tmp_path / "pkg")), x)
        pyfunc = mloop.pyfunc.load_model(tmp_path / "pkg")
        assert pyfunc.flavor == self.flavor

    def test_load_copies_the_package_to_dst_path(
        self, home: Path, tmp_path: Path, model: Any, x: np.ndarray
    ) -> None:
        with mloop.start_run():
            info = self.module.log_model(model, name="m", **self.log_options)
        self.module.load_model(info.model_uri, dst_path=tmp_path / "copy")
        self._same(model, self.module.load_model(tmp_path / "copy"), x)
        with pytest.raises(AlreadyExists, match="dst_path"):
            self.module.load_model(info.model_uri, dst_path=tmp_path / "copy")

    def test_save_refuses_a_path_that_is_not_empty(
        self, home: Path, tmp_path: Path, model: Any
    ) -> None:
        (tmp_path / "taken").mkdir()
        (tmp_path / "taken" / "notes.txt").write_text("keep me")
        with pytest.raises(AlreadyExists, match="not empty"):
            self.module.save_model(model, tmp_path / "taken", **self.log_options)
        assert [p.name for p in (tmp_path / "taken").iterdir()] == ["notes.txt"]

    # -- bad input -----------------------------------------------------------------------------

    def test_name_and_artifact_path_together_are_refused(self, home: Path, model: Any) -> None:
        with (
            mloop.start_run() as run,
            pytest.raises(InvalidInput, match="both name='a' and artifact_path='b'"),
        ):
            self.module.log_model(model, "b", name="a", **self.log_options)
        assert mloop.Client().list_artifacts(run.info.run_id) == []

    def test_an_argument_it_does_not_take_is_refused_by_name(
        self, home: Path, tmp_path: Path, model: Any
    ) -> None:
        with (
            mloop.start_run() as run,
            pytest.raises(InvalidInput, match=r"does not take \['model_type'\]"),
        ):
            self.module.log_model(model, name="m", model_type="x", **self.log_options)
        assert mloop.Client().list_artifacts(run.info.run_id) == []
        with pytest.raises(InvalidInput, match=r"does not take \['colour'\]"):
            self.module.save_model(model, tmp_path / "m", colour="red", **self.log_options)
        assert not (tmp_path / "m").exists()

    def test_a_model_of_another_flavor_is_refused_at_log(self, home: Path, tmp_path: Path) -> None:
        other_module, other = self.other_model()
        saved_by = rf"\({other_module.__name__}\.save_model saves it\)"
        with pytest.raises(InvalidInput, match=f"takes a {self.flavor} model.*{saved_by}"):
            self.module.save_model(other, tmp_path / "m")
        assert not (tmp_path / "m").exists()

    def test_a_package_of_another_flavor_is_refused_at_load(
        self, home: Path, tmp_path: Path
    ) -> None:
        other_module, other = self.other_model()
        other_module.save_model(other, tmp_path / "other")
        other_flavor = mloop.pyfunc.load_model(tmp_path / "other").flavor
        with pytest.raises(
            InvalidInput, match=f"is a '{other_flavor}' model, not a '{self.flavor}'"
        ):
            self.module.load_model(tmp_path / "other")

    def test_a_uri_with_nothing_behind_it_is_not_found(self, home: Path, tmp_path: Path) -> None:
        with pytest.raises(NotFound):
            self.module.load_model("models:/no-such-model/1")
        with pytest.raises(NotFound):
            self.module.load_model("models:/no-such-model@champion")
        with pytest.raises(NotFound):
            self.module.load_model(tmp_path / "no-such-folder")
        with mloop.start_run() as run:
            pass
        with pytest.raises(NotFound):
            self.module.load_model(f"runs:/{run.info.run_id}/model")
        with pytest.raises(InvalidInput, match="runs:/<32-hex run id>"):
            self.module.load_model("runs:/not-a-run/model")
