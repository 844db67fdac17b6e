from __future__ import annotations

import importlib.metadata
import platform
import shutil
import types
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import mloop
from mloop.artifacts.cas import hash_file
from mloop.errors import AlreadyExists, IntegrityError, InvalidInput, MissingExtra, NotFound
from mloop.models import flavors
from mloop.models.flavors import pyfunc as pyfunc_flavor
from mloop.models.flavors import sklearn as sklearn_flavor
from mloop.models.package import MANIFEST, manifest_digest, read_manifest
from mloop.models.pyfunc import PythonModel
from tests.models.custom import LinearScorer, NotAModel, Scale, ThresholdClassifier


def roundtrip(model: Any, path: Path, example: Any, **options: Any) -> mloop.models.LoadedModel:
    """Save ``model`` at ``path`` with ``example`` as its input example, and load it back."""
    mloop.models.save(model, path, input_example=example, **options)
    return mloop.models.load(path)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


@pytest.fixture
def table(rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """Forty rows, three float columns, a binary label that depends on them."""
    x = pd.DataFrame(rng.normal(size=(40, 3)), columns=["income", "debt", "age"])
    y = (x["income"] - x["debt"] + 0.3 * rng.normal(size=40) > 0).astype("int64").to_numpy()
    return x, y


@pytest.fixture
def arrays(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sixty rows of four float32 features, a regression target and a three-class label."""
    x = rng.normal(size=(60, 4)).astype("float32")
    target = x @ np.array([1.0, -2.0, 0.5, 0.0], dtype="float32") + 0.1 * rng.normal(size=60)
    classes = np.digitize(x[:, 0] + x[:, 1], [-0.5, 0.5]).astype("int64")
    return x, target, classes


# -- scikit-learn -----------------------------------------------------------------------------


def test_sklearn_classifier_on_a_dataframe(
    home: Path, tmp_path: Path, table: tuple[pd.DataFrame, np.ndarray]
) -> None:
    from sklearn.linear_model import LogisticRegression

    x, y = table
    model = LogisticRegression().fit(x, y)
    loaded = roundtrip(model, tmp_path / "m", x[:5])
    assert loaded.flavor == "sklearn"
    assert isinstance(loaded, mloop.models.LoadedClassifier)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    np.testing.assert_allclose(loaded.predict_proba(x), model.predict_proba(x))
    assert loaded.manifest.loader["trusted_types"] == []


def test_sklearn_regressor_on_an_ndarray(
    home: Path, tmp_path: Path, arrays: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    from sklearn.ensemble import RandomForestRegressor

    x, target, _ = arrays
    model = RandomForestRegressor(n_estimators=5, max_depth=3, random_state=0).fit(x, target)
    loaded = roundtrip(model, tmp_path / "m", x[:5])
    assert not isinstance(loaded, mloop.models.LoadedClassifier)
    np.testing.assert_allclose(loaded.predict(x), model.predict(x))


def test_sklearn_pipeline(
    home: Path, tmp_path: Path, table: tuple[pd.DataFrame, np.ndarray]
) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = table
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
    loaded = roundtrip(model, tmp_path / "m", x[:5])
    assert isinstance(loaded, mloop.models.LoadedClassifier)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    np.testing.assert_allclose(loaded.predict_proba(x), model.predict_proba(x))


def test_sklearn_custom_transformer_is_recorded_as_trusted(
    home: Path, tmp_path: Path, arrays: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline

    x, target, _ = arrays
    model = make_pipeline(Scale(3.0), Ridge()).fit(x, target)
    loaded = roundtrip(model, tmp_path / "m", x[:5])
    assert loaded.manifest.loader["trusted_types"] == ["tests.models.custom.Scale"]
    np.testing.assert_allclose(loaded.predict(x), model.predict(x))


def _custom_package(path: Path, arrays: tuple[np.ndarray, np.ndarray, np.ndarray]) -> Any:
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline

    x, target, _ = arrays
    return mloop.models.save(make_pipeline(Scale(), Ridge()).fit(x, target), path)


def test_sklearn_type_not_trusted_at_save_is_refused(
    tmp_path: Path, arrays: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    manifest = _custom_package(tmp_path / "m", arrays)
    loader = {**manifest.loader, "trusted_types": []}
    with pytest.raises(IntegrityError, match=r"tests\.models\.custom\.Scale"):
        sklearn_flavor.FLAVOR.load(tmp_path / "m", loader)


def test_sklearn_file_swapped_for_one_with_an_untrusted_type_is_refused(
    home: Path, tmp_path: Path, arrays: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    from sklearn.linear_model import Ridge

    x, target, _ = arrays
    plain = tmp_path / "plain"
    mloop.models.save(Ridge().fit(x, target), plain)
    _custom_package(tmp_path / "custom", arrays)
    # An attacker without the signing key swaps the file and rewrites the (unsigned) manifest.
    shutil.copyfile(tmp_path / "custom" / "model.skops", plain / "model.skops")
    document = yaml.safe_load((plain / MANIFEST).read_text())
    digest, size = hash_file(plain / "model.skops")
    for entry in document["files"]:
        if entry["path"] == "model.skops":
            entry.update(digest=digest, size=size)
    document["digest"] = manifest_digest(document)
    (plain / MANIFEST).write_text(yaml.safe_dump(document, sort_keys=False))
    read_manifest(plain)  # the rewritten manifest is self-consistent
    with pytest.raises(IntegrityError, match="were not in it when it was saved"):
        mloop.models.load(plain)


# -- XGBoost ------------------------------------------------------------------------------------


def test_xgboost_classifier(
    home: Path, tmp_path: Path, table: tuple[pd.DataFrame, np.ndarray]
) -> None:
    import xgboost as xgb

    x, y = table
    model = xgb.XGBClassifier(n_estimators=5, max_depth=2).fit(x, y)
    loaded = roundtrip(model, tmp_path / "m", x[:5])
    assert (loaded.flavor, loaded.manifest.loader["class"]) == ("xgboost", "XGBClassifier")
    assert isinstance(loaded, mloop.models.LoadedClassifier)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    np.testing.assert_allclose(loaded.predict_proba(x), model.predict_proba(x))


def test_xgboost_regressor(
    home: Path, tmp_path: Path, arrays: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    import xgboost as xgb

    x, target, _ = arrays
    model = xgb.XGBRegressor(n_estimators=5, max_depth=2).fit(x, target)
    loaded = roundtrip(model, tmp_path / "m", x[:5])
    assert not isinstance(loaded, mloop.models.LoadedClassifier)
    np.testing.assert_allclose(loaded.predict(x), model.predict(x))


def test_xgboost_booster(
    home: Path, tmp_path: Path, arrays: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    import xgboost as xgb

    x, target, _ = arrays
    booster = xgb.train({"max_depth": 2}, xgb.DMatrix(x, label=target), num_boost_round=5)
    loaded = roundtrip(booster, tmp_path / "m", x[:5])
    assert loaded.manifest.loader["class"] == "Booster"
    assert isinstance(loaded.model, xgb.Booster)
    np.testing.assert_allclose(loaded.predict(x), booster.predict(xgb.DMatrix(x)))


# -- LightGBM ------------------------------------------------------------------------------------


def test_lightgbm_binary_classifier(
    home: Path, tmp_path: Path, table: tuple[pd.DataFrame, np.ndarray]
) -> None:
    import lightgbm as lgb

    x, y = table
    model = lgb.LGBMClassifier(n_estimators=5, min_child_samples=2, verbose=-1).fit(x, y)
    loaded = roundtrip(model, tmp_path / "m", x[:5])
    assert loaded.flavor == "lightgbm"
    assert isinstance(loaded, mloop.models.LoadedClassifier)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    np.testing.assert_allclose(loaded.predict_proba(x), model.predict_proba(x))


def test_lightgbm_multiclass_classifier_keeps_its_labels(
    home: Path, tmp_path: Path, arrays: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    import lightgbm as lgb

    x, _, classes = arrays
    labels = np.array(["low", "mid", "high"])[classes]
    model = lgb.LGBMClassifier(n_estimators=5, min_child_samples=2, verbose=-1).fit(x, labels)
    loaded = roundtrip(model, tmp_path / "m", x[:5])
    assert loaded.manifest.loader["classes"] == ["high", "low", "mid"]
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    proba = loaded.predict_proba(x)
    assert proba.shape == (60, 3)
    np.testing.assert_allclose(proba, model.predict_proba(x))


def test_lightgbm_regressor(
    home: Path, tmp_path: Path, arrays: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    import lightgbm as lgb

    x, target, _ = arrays
    model = lgb.LGBMRegressor(n_estimators=5, min_child_samples=2, verbose=-1).fit(x, target)
    loaded = roundtrip(model, tmp_path / "m", x[:5])
    assert not isinstance(loaded, mloop.models.LoadedClassifier)
    np.testing.assert_allclose(loaded.predict(x), model.predict(x))


def test_lightgbm_booster(
    home: Path, tmp_path: Path, arrays: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    import lightgbm as lgb

    x, target, _ = arrays
    params = {"objective": "regression", "min_data_in_leaf": 2, "verbose": -1}
    booster = lgb.train(params, lgb.Dataset(x, label=target), num_boost_round=5)
    loaded = roundtrip(booster, tmp_path / "m", x[:5])
    assert loaded.manifest.loader["class"] == "Booster"
    assert isinstance(loaded.model, lgb.Booster)
    np.testing.assert_allclose(loaded.predict(x), booster.predict(x))


# -- PyTorch -------------------------------------------------------------------------------------


def _torch_reference(module: Any, x: np.ndarray) -> np.ndarray:
    import torch

    module.eval()
    with torch.no_grad():
        out: np.ndarray = module(torch.as_tensor(x)).numpy()
    return out


def test_pytorch_state_dict_with_init_kwargs(
    home: Path, tmp_path: Path, arrays: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    import torch

    from tests.models.torch_modules import TinyNet

    torch.manual_seed(0)
    x = arrays[0]
    module = TinyNet(n_in=4, hidden=5, n_out=3)
    loaded = roundtrip(
        module, tmp_path / "m", x[:5], init_kwargs={"n_in": 4, "hidden": 5, "n_out": 3}
    )
    loader = loaded.manifest.loader
    assert (loader["format"], loader["module"]) == (
        "state_dict",
        "tests.models.torch_modules:TinyNet",
    )
    assert loader["init_kwargs"] == {"n_in": 4, "hidden": 5, "n_out": 3}
    assert isinstance(loaded.model, TinyNet)
    assert not loaded.model.training
    np.testing.assert_allclose(loaded.predict(x), _torch_reference(module, x), rtol=1e-6)


def test_pytorch_export(
    home: Path, tmp_path: Path, arrays: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    import torch

    from tests.models.torch_modules import TinyNet

    torch.manual_seed(1)
    x = arrays[0]
    module = TinyNet(n_in=4)
    loaded = roundtrip(module, tmp_path / "m", x[:1], torch_format="export")
    assert loaded.manifest.loader["format"] == "export"
    assert [f.path for f in loaded.manifest.files if f.path.startswith("model")] == ["model.pt2"]
    # the batch dimension is free: the example had one row, this has sixty
    np.testing.assert_allclose(loaded.predict(x), _torch_reference(module, x), rtol=1e-6)


def test_pytorch_torchscript(
    home: Path, tmp_path: Path, arrays: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    import torch

    from tests.models.torch_modules import TinyNet

    torch.manual_seed(2)
    x = arrays[0]
    module = TinyNet(n_in=4)
    loaded = roundtrip(module, tmp_path / "m", x[:5], torch_format="torchscript")
    assert loaded.manifest.loader["format"] == "torchscript"
    assert isinstance(loaded.model, torch.jit.ScriptModule)
    np.testing.assert_allclose(loaded.predict(x), _torch_reference(module, x), rtol=1e-6)


def test_pytorch_exported_program_and_scripted_module_save_as_they_are(
    home: Path, tmp_path: Path, arrays: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    import warnings

    import torch

    from tests.models.torch_modules import TinyNet

    torch.manual_seed(3)
    x = arrays[0]
    module = TinyNet(n_in=4).eval()
    batch = torch.export.Dim("batch")
    program = torch.export.export(module, (torch.as_tensor(x),), dynamic_shapes={"x": {0: batch}})
    with warnings.catch_warnings():  # the test scripts the module itself, not through mloop
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.script(module)
    expected = _torch_reference(module, x)
    for name, model, form in [("ep", program, "export"), ("ts", scripted, "torchscript")]:
        loaded = roundtrip(model, tmp_path / name, x[:5])
        assert loaded.manifest.loader["format"] == form
        np.testing.assert_allclose(loaded.predict(x), expected, rtol=1e-6)


def test_pytorch_float64_module_keeps_its_dtype(
    home: Path, tmp_path: Path, arrays: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    import torch

    from tests.models.torch_modules import TinyNet

    torch.manual_seed(4)
    x = arrays[0].astype("float64")
    module = TinyNet(n_in=4).double()
    loaded = roundtrip(module, tmp_path / "m", x[:5], init_kwargs={"n_in": 4})
    assert loaded.manifest.loader["dtype"] == "float64"
    assert next(loaded.model.parameters()).dtype == torch.float64
    out = loaded.predict(x)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, _torch_reference(module, x))


@pytest.mark.parametrize("example", [True, False])
def test_pytorch_init_kwargs_that_do_not_rebuild_the_module_are_refused(
    home: Path, tmp_path: Path, example: bool
) -> None:
    from tests.models.torch_modules import TinyNet

    target = tmp_path / "m"
    x = np.zeros((2, 4), dtype="float32")
    with pytest.raises(InvalidInput, match=r"hidden\.weight"):
        mloop.models.save(TinyNet(n_in=4), target, input_example=x if example else None)
    assert not target.exists()
    with pytest.raises(InvalidInput, match="unexpected keyword"):
        mloop.models.save(TinyNet(), target, init_kwargs={"width": 4})
    assert not target.exists()


def test_pytorch_bad_options_are_refused(home: Path, tmp_path: Path) -> None:
    from tests.models.torch_modules import TinyNet

    with pytest.raises(InvalidInput, match="torch_format must be one of"):
        mloop.models.save(TinyNet(), tmp_path / "a", torch_format="onnx")
    with pytest.raises(InvalidInput, match="pass input_example"):
        mloop.models.save(TinyNet(), tmp_path / "b", torch_format="export")
    with pytest.raises(InvalidInput, match="JSON values"):
        mloop.models.save(TinyNet(), tmp_path / "c", init_kwargs={"n_in": object()})
    assert not any((tmp_path / name).exists() for name in "abc")


def test_pytorch_module_defined_in_a_function_is_refused_before_writing(
    home: Path, tmp_path: Path
) -> None:
    from torch import nn

    class Local(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = nn.Linear(2, 1)

    target = tmp_path / "m"
    with pytest.raises(InvalidInput, match="inside a function"):
        mloop.models.save(Local(), target)
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".m.")] == []


def test_pytorch_module_defined_in_main_is_refused_before_writing(
    home: Path, tmp_path: Path
) -> None:
    from torch import nn

    def body(ns: dict[str, Any]) -> None:
        ns["__module__"] = "__main__"

    main_cls = types.new_class("Main", (nn.Module,), exec_body=body)
    target = tmp_path / "m"
    with pytest.raises(InvalidInput, match="'__main__'"):
        mloop.models.save(main_cls(), target)
    assert not target.exists()


# -- ONNX ----------------------------------------------------------------------------------------


def _linear_onnx(weights: np.ndarray, bias: np.ndarray, *, softmax: bool = False) -> Any:
    """``x @ weights + bias`` for a float input ``[None, n]``; with ``softmax``, a second output."""
    from onnx import TensorProto, helper, numpy_helper

    n_in, n_out = weights.shape
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["xw"]),
        helper.make_node("Add", ["xw", "b"], ["scores"]),
    ]
    outputs = [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [None, n_out])]
    if softmax:
        nodes.append(helper.make_node("Softmax", ["scores"], ["probabilities"], axis=1))
        outputs.append(
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, n_out])
        )
    graph = helper.make_graph(
        nodes,
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, n_in])],
        outputs,
        initializer=[
            numpy_helper.from_array(weights.astype("float32"), "w"),
            numpy_helper.from_array(bias.astype("float32"), "b"),
        ],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def test_onnx_linear_model(home: Path, tmp_path: Path, rng: np.random.Generator) -> None:
    w, b = rng.normal(size=(3, 1)), rng.normal(size=1)
    x = rng.normal(size=(10, 3)).astype("float32")
    loaded = roundtrip(_linear_onnx(w, b), tmp_path / "m", x[:2])
    assert loaded.flavor == "onnx"
    assert loaded.manifest.loader["inputs"] == ["x"]
    assert not isinstance(loaded, mloop.models.LoadedClassifier)
    np.testing.assert_allclose(loaded.predict(x), x @ w + b, rtol=1e-5)


def test_onnx_probabilities_output_gives_predict_proba(
    home: Path, tmp_path: Path, rng: np.random.Generator
) -> None:
    w, b = rng.normal(size=(3, 4)), rng.normal(size=4)
    x = rng.normal(size=(10, 3)).astype("float32")
    loaded = roundtrip(_linear_onnx(w, b, softmax=True), tmp_path / "m", x[:2])
    assert isinstance(loaded, mloop.models.LoadedClassifier)
    scores = x @ w + b
    np.testing.assert_allclose(loaded.predict(x), scores, rtol=1e-5)
    expected = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(loaded.predict_proba(x), expected, rtol=1e-5)


def test_onnx_two_inputs_fed_from_dataframe_columns(
    home: Path, tmp_path: Path, rng: np.random.Generator
) -> None:
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Sub", ["a", "b"], ["diff"])],
        "difference",
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, [None, 1]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, [None, 1]),
        ],
        [helper.make_tensor_value_info("diff", TensorProto.FLOAT, [None, 1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    frame = pd.DataFrame({"b": rng.normal(size=6), "a": rng.normal(size=6)})
    loaded = roundtrip(model, tmp_path / "m", frame[:2])
    expected = (frame["a"] - frame["b"]).to_numpy().reshape(-1, 1)
    np.testing.assert_allclose(loaded.predict(frame), expected, rtol=1e-6)


def test_onnx_invalid_graph_is_refused(home: Path, tmp_path: Path) -> None:
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "missing"], ["y"])],
        "broken",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    with pytest.raises(InvalidInput, match="not valid"):
        mloop.models.save(model, tmp_path / "m")
    assert not (tmp_path / "m").exists()


# -- pyfunc ---------------------------------------------------------------------------------------


def test_pyfunc_with_artifacts_and_model_config(
    home: Path, tmp_path: Path, table: tuple[pd.DataFrame, np.ndarray]
) -> None:
    x, _ = table
    weights = np.array([0.5, -1.0, 2.0])
    source = tmp_path / "weights.txt"
    np.savetxt(source, weights)
    loaded = roundtrip(
        LinearScorer(),
        tmp_path / "m",
        x[:3],
        artifacts={"weights": source},
        model_config={"offset": 1.5},
    )
    assert loaded.flavor == "pyfunc"
    assert not isinstance(loaded, mloop.models.LoadedClassifier)
    loader = loaded.manifest.loader
    assert loader["class"] == "tests.models.custom:LinearScorer"
    assert loader["artifacts"] == {"weights": "artifacts/weights/weights.txt"}
    source.unlink()  # the package holds its own copy
    assert (tmp_path / "m" / "artifacts" / "weights" / "weights.txt").is_file()
    np.testing.assert_allclose(loaded.predict(x), x.to_numpy() @ weights + 1.5)
    assert isinstance(loaded.model, LinearScorer)


def test_pyfunc_with_predict_proba(home: Path, tmp_path: Path) -> None:
    frame = pd.DataFrame({"score": [-1.0, 0.2, 0.4, 3.0]})
    loaded = roundtrip(ThresholdClassifier(), tmp_path / "m", frame, model_config={"cut": 0.3})
    assert isinstance(loaded, mloop.models.LoadedClassifier)
    p = 1.0 / (1.0 + np.exp(-(frame["score"].to_numpy() - 0.3)))
    np.testing.assert_allclose(loaded.predict_proba(frame), np.column_stack([1.0 - p, p]))
    np.testing.assert_array_equal(loaded.predict(frame), [0, 0, 1, 1])


def test_pyfunc_class_defined_in_a_function_is_refused(home: Path, tmp_path: Path) -> None:
    class Local(PythonModel):
        def predict(self, model_input: Any) -> Any:
            return model_input

    with pytest.raises(InvalidInput, match="inside a function"):
        mloop.models.save(Local(), tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_pyfunc_tampered_loader_naming_another_class_is_refused(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "m"
    mloop.models.save(ThresholdClassifier(), path, model_config={"cut": 0.0})
    document = yaml.safe_load((path / MANIFEST).read_text())
    document["loader"]["class"] = "tests.models.custom:NotAModel"
    document["digest"] = manifest_digest(document)
    (path / MANIFEST).write_text(yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(IntegrityError, match=r"not a mloop\.models\.PythonModel subclass"):
        mloop.models.load(path)
    assert NotAModel().predict(1) == 1  # the class is a real one, only not a PythonModel


def test_pyfunc_loader_naming_a_non_class_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m"
    manifest = mloop.models.save(ThresholdClassifier(), path, model_config={"cut": 0.0})
    loader = {**manifest.loader, "class": "os:system"}
    with pytest.raises(IntegrityError):
        pyfunc_flavor.FLAVOR.load(path, loader)


def test_pyfunc_missing_artifact_is_not_found(home: Path, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="weights"):
        mloop.models.save(
            LinearScorer(),
            tmp_path / "m",
            artifacts={"weights": tmp_path / "nope.txt"},
            model_config={"offset": 0.0},
        )
    assert not (tmp_path / "m").exists()


# -- detection, manifest, refusals ---------------------------------------------------------------


def test_detection_picks_the_most_specific_flavor() -> None:
    import lightgbm as lgb
    import xgboost as xgb
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline

    from tests.models.torch_modules import TinyNet

    assert flavors.detect(xgb.XGBClassifier()).name == "xgboost"
    assert flavors.detect(xgb.XGBRegressor()).name == "xgboost"
    assert flavors.detect(lgb.LGBMClassifier()).name == "lightgbm"
    assert flavors.detect(LinearRegression()).name == "sklearn"
    assert flavors.detect(make_pipeline(LinearRegression())).name == "sklearn"
    assert flavors.detect(TinyNet()).name == "pytorch"
    assert flavors.detect(_linear_onnx(np.ones((1, 1)), np.zeros(1))).name == "onnx"
    assert flavors.detect(LinearScorer()).name == "pyfunc"


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        ("sklearn", {"scikit-learn", "skops", "numpy", "scipy"}),
        ("lightgbm", {"lightgbm", "numpy", "scipy"}),
        ("xgboost", {"xgboost-cpu", "numpy", "scipy"}),
    ],
)
def test_manifest_pins_the_flavors_libraries_and_python(
    tmp_path: Path, make: str, expected: set[str]
) -> None:
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 1, 0, 1])
    if make == "sklearn":
        from sklearn.linear_model import LogisticRegression

        model: Any = LogisticRegression().fit(x, y)
    elif make == "lightgbm":
        import lightgbm as lgb

        model = lgb.LGBMClassifier(n_estimators=2, min_child_samples=1, verbose=-1).fit(x, y)
    else:
        import xgboost as xgb

        model = xgb.XGBClassifier(n_estimators=2).fit(x, y)
    manifest = mloop.models.save(model, tmp_path / "m")
    assert expected <= set(manifest.requirements)
    for package, version in manifest.requirements.items():
        assert version == importlib.metadata.version(package)
    assert manifest.python_version == platform.python_version()
    assert read_manifest(tmp_path / "m").requirements == manifest.requirements


def test_manifest_pins_torch(tmp_path: Path) -> None:
    from tests.models.torch_modules import TinyNet

    manifest = mloop.models.save(TinyNet(), tmp_path / "m")
    assert manifest.requirements["torch"] == importlib.metadata.version("torch")
    assert manifest.python_version == platform.python_version()


@pytest.mark.parametrize("library", ["sklearn", "sklearn-pipeline", "xgboost", "lightgbm"])
def test_an_unfitted_model_is_refused_before_writing(tmp_path: Path, library: str) -> None:
    if library == "sklearn":
        from sklearn.linear_model import LogisticRegression

        model: Any = LogisticRegression()
    elif library == "sklearn-pipeline":
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        model = make_pipeline(StandardScaler(), LogisticRegression())
    elif library == "xgboost":
        import xgboost as xgb

        model = xgb.XGBClassifier()
    else:
        import lightgbm as lgb

        model = lgb.LGBMClassifier()
    with pytest.raises(InvalidInput, match="is not fitted"):
        mloop.models.save(model, tmp_path / "m")
    assert list(tmp_path.iterdir()) == []


def test_saving_into_a_non_empty_folder_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "m"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(AlreadyExists):
        mloop.models.save(ThresholdClassifier(), target, model_config={"cut": 0.0})
    assert [p.name for p in target.iterdir()] == ["keep.txt"]


def test_saving_into_an_empty_folder_works(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "m"
    target.mkdir()
    mloop.models.save(ThresholdClassifier(), target, model_config={"cut": 0.0})
    assert mloop.models.load(target).predict(pd.DataFrame({"score": [1.0]})).tolist() == [1]


def test_an_unsupported_object_is_refused_naming_the_flavors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="supported: scikit-learn, XGBoost, LightGBM") as info:
        mloop.models.save(object(), tmp_path / "m")
    assert "builtins.object" in str(info.value)
    assert "PythonModel" in str(info.value)
    assert not (tmp_path / "m").exists()


def test_require_names_the_extra_of_a_missing_library() -> None:
    with pytest.raises(MissingExtra, match=r"pip install 'mloop\[torch\]'") as info:
        flavors.require("mloop_no_such_module_zz.sub", "torch")
    assert (info.value.package, info.value.extra) == ("mloop_no_such_module_zz", "torch")
    with pytest.raises(MissingExtra, match=r"^skops-x is not installed") as named:
        flavors.require("mloop_no_such_module_zz", "sklearn", "skops-x")
    assert named.value.extra == "sklearn"
    assert flavors.require("json", "none").dumps([1]) == "[1]"


def test_a_python_model_written_for_mlflow_predicts_unchanged(home: Path, tmp_path: Path) -> None:
    from tests.models.custom import MlflowStyleScorer

    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    mloop.models.save(
        MlflowStyleScorer(),
        tmp_path / "pkg",
        input_example=frame,
        model_config={"offset": 0.5, "scale": 2.0},
    )
    loaded = mloop.models.load(tmp_path / "pkg")
    assert list(loaded.predict(frame)) == [8.5, 12.5]  # (a + b) * scale + offset, context given
