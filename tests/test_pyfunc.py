"""mloop.pyfunc: custom models by MLflow's names, and any package loaded as a Python function."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mloop
import mloop.pyfunc
import mloop.sklearn
from mloop.errors import AlreadyExists, InvalidInput, NotFound
from tests.models.custom import LinearScorer, MlflowStyleScorer, ParamsScaler

FRAME = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.5, 0.0, -1.0]})


def _expected(offset: float, scale: float = 1.0) -> np.ndarray:
    return FRAME.to_numpy().sum(axis=1) * scale + offset


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    path = tmp_path / "weights.txt"
    np.savetxt(path, [2.0, -1.0])
    return path


def test_log_with_name_and_load_by_runs_uri(home: Path) -> None:
    with mloop.start_run() as run:
        info = mloop.pyfunc.log_model(
            name="scorer",
            python_model=MlflowStyleScorer(),
            model_config={"offset": 1.5, "scale": 2.0},
            input_example=FRAME[:2],
        )
    assert info.model_uri == f"runs:/{run.info.run_id}/scorer"
    assert info.flavor == "pyfunc"
    model = mloop.pyfunc.load_model(f"runs:/{run.info.run_id}/scorer")
    assert isinstance(model, mloop.pyfunc.PyFuncModel)
    np.testing.assert_allclose(model.predict(FRAME), _expected(1.5, 2.0))
    assert isinstance(model.unwrap_python_model(), MlflowStyleScorer)


def test_log_with_artifact_path_first_as_mlflow_takes_it(home: Path, weights: Path) -> None:
    with mloop.start_run():
        info = mloop.pyfunc.log_model(
            "scorer",
            python_model=LinearScorer(),
            artifacts={"weights": weights},
            model_config={"offset": 1.0},
        )
    assert info.artifact_path == "scorer"
    weights.unlink()  # the package holds its own copy
    model = mloop.pyfunc.load_model(info)
    np.testing.assert_allclose(model.predict(FRAME), FRAME.to_numpy() @ [2.0, -1.0] + 1.0)
    np.testing.assert_allclose(model.unwrap_python_model().weights, [2.0, -1.0])


def test_registered_model_loads_by_alias(home: Path) -> None:
    with mloop.start_run():
        info = mloop.pyfunc.log_model(
            python_model=MlflowStyleScorer(),
            model_config={"offset": 0.0},
            registered_model_name="scorer",
        )
    assert (info.artifact_path, info.registered_model_version) == ("model", 1)
    mloop.models.set_alias("scorer", "champion", 1)
    model = mloop.pyfunc.load_model("models:/scorer@champion")
    np.testing.assert_allclose(model.predict(FRAME), _expected(0.0))


def test_params_reach_a_predict_that_takes_them(home: Path, tmp_path: Path) -> None:
    mloop.pyfunc.save_model(
        tmp_path / "m", python_model=MlflowStyleScorer(), model_config={"offset": 1.0}
    )
    model = mloop.pyfunc.load_model(tmp_path / "m")
    np.testing.assert_allclose(model.predict(FRAME, params={"factor": 3.0}), _expected(1.0, 3.0))
    np.testing.assert_allclose(model.predict(FRAME), _expected(1.0))


def test_params_reach_a_predict_written_mloops_way(home: Path, tmp_path: Path) -> None:
    mloop.pyfunc.save_model(tmp_path / "m", python_model=ParamsScaler())
    model = mloop.pyfunc.load_model(tmp_path / "m")
    np.testing.assert_allclose(model.predict(FRAME, params={"factor": 2.0}), _expected(0.0, 2.0))


def test_metadata_reads_as_mlflows_model(home: Path) -> None:
    with mloop.start_run() as run:
        info = mloop.pyfunc.log_model(
            python_model=MlflowStyleScorer(),
            model_config={"offset": 0.0},
            input_example=FRAME[:2],
            metadata={"team": "risk"},
        )
    metadata = mloop.pyfunc.load_model(info).metadata
    assert metadata == {"team": "risk"} and metadata.metadata == {"team": "risk"}
    assert (metadata.run_id, list(metadata.flavors)) == (run.info.run_id, ["pyfunc"])
    assert metadata.signature == info.signature
    assert [c.name for c in metadata.get_input_schema()] == ["a", "b"]
    assert metadata.get_output_schema() is not None


def test_params_for_a_model_that_takes_none_are_refused(home: Path, tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    mloop.sklearn.save_model(LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]), tmp_path / "m")
    model = mloop.pyfunc.load_model(tmp_path / "m")
    with pytest.raises(InvalidInput, match=r"takes no params; got \['factor'\]"):
        model.predict([[1.0]], params={"factor": 2})
    with pytest.raises(InvalidInput, match="not a PythonModel"):
        model.unwrap_python_model()


def test_model_config_from_a_yaml_file(home: Path, tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("offset: 4.0\nscale: 0.5\n")
    mloop.pyfunc.save_model(
        tmp_path / "m", python_model=MlflowStyleScorer(), model_config=tmp_path / "config.yaml"
    )
    model = mloop.pyfunc.load_model(tmp_path / "m")
    np.testing.assert_allclose(model.predict(FRAME), _expected(4.0, 0.5))


def test_each_load_gives_a_model_of_its_own(home: Path, tmp_path: Path) -> None:
    mloop.pyfunc.save_model(
        tmp_path / "m", python_model=MlflowStyleScorer(), model_config={"offset": 0}
    )
    first = mloop.pyfunc.load_model(tmp_path / "m").unwrap_python_model()
    assert mloop.pyfunc.load_model(tmp_path / "m").unwrap_python_model() is not first


def test_mlflow_names_are_mloop_types() -> None:
    assert mloop.pyfunc.PythonModelContext is mloop.models.ModelContext
    assert mloop.pyfunc.PyFuncModel is mloop.models.LoadedModel
    assert mloop.pyfunc.PythonModel is mloop.models.PythonModel


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "a", "artifact_path": "b"}, "both name='a' and artifact_path='b'"),
        ({"loader_module": "my_loader"}, r"does not take \['loader_module'\]"),
        ({"data_path": "data.csv"}, r"does not take \['data_path'\]"),
        ({"streamable": True}, r"does not take \['streamable'\]"),
        ({"python_model": None}, "needs python_model="),
        ({"python_model": "model.py"}, "is a path: models from code"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_written(
    home: Path, kwargs: dict[str, Any], message: str
) -> None:
    arguments: dict[str, Any] = {"python_model": MlflowStyleScorer(), **kwargs}
    with mloop.start_run() as run, pytest.raises(InvalidInput, match=message):
        mloop.pyfunc.log_model(model_config={"offset": 0}, **arguments)
    assert mloop.Client().list_artifacts(run.info.run_id) == []


def test_an_object_that_is_no_python_model_is_refused(home: Path, tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0])
    with pytest.raises(InvalidInput, match=r"takes a pyfunc model.*mloop\.sklearn\.save_model"):
        mloop.pyfunc.save_model(tmp_path / "m", python_model=model)
    assert not (tmp_path / "m").exists()


def test_save_refuses_a_path_that_is_not_empty(home: Path, tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "keep.txt").write_text("x")
    with pytest.raises(AlreadyExists, match="not empty"):
        mloop.pyfunc.save_model(tmp_path / "m", python_model=MlflowStyleScorer())
    assert [p.name for p in (tmp_path / "m").iterdir()] == ["keep.txt"]


def test_a_missing_model_config_file_or_artifact_is_not_found(home: Path, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="model_config file"):
        mloop.pyfunc.save_model(
            tmp_path / "m", python_model=MlflowStyleScorer(), model_config=tmp_path / "none.yaml"
        )
    with pytest.raises(NotFound, match="artifact 'weights'"):
        mloop.pyfunc.save_model(
            tmp_path / "m",
            python_model=LinearScorer(),
            artifacts={"weights": tmp_path / "none.txt"},
            model_config={"offset": 0},
        )
    assert not (tmp_path / "m").exists()


def test_a_model_config_file_that_is_not_a_mapping_is_refused(home: Path, tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(InvalidInput, match="must hold a mapping"):
        mloop.pyfunc.save_model(
            tmp_path / "m", python_model=MlflowStyleScorer(), model_config=tmp_path / "config.yaml"
        )
    (tmp_path / "config.yaml").write_text("offset: [1\n")
    with pytest.raises(InvalidInput, match="is not YAML or JSON"):
        mloop.pyfunc.save_model(
            tmp_path / "m", python_model=MlflowStyleScorer(), model_config=tmp_path / "config.yaml"
        )


def test_a_uri_with_nothing_behind_it_is_not_found(home: Path, tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        mloop.pyfunc.load_model("models:/nothing@champion")
    with pytest.raises(NotFound):
        mloop.pyfunc.load_model(tmp_path / "nothing")
