"""mloop.pytorch: MLflow's names over the pytorch flavor; the nn.Module comes back."""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mloop
import mloop.pytorch
import mloop.sklearn
from mloop.errors import InvalidInput
from tests.flavor_contract import FlavorModuleContract
from tests.models.torch_modules import TinyNet


def _torch_predict(module: Any, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return np.asarray(module(torch.as_tensor(x)).numpy())


class TestPyTorchModule(FlavorModuleContract):
    __test__ = True
    module = mloop.pytorch
    flavor = "pytorch"
    native_type = "TinyNet"
    log_options = {"init_kwargs": {"n_in": 3, "hidden": 5, "n_out": 2}}  # noqa: RUF012

    def make_model(self) -> Any:
        import torch

        torch.manual_seed(0)
        return TinyNet(n_in=3, hidden=5, n_out=2).eval()

    def predict(self, native: Any, x: np.ndarray) -> np.ndarray:
        return _torch_predict(native, x)

    def other_model(self) -> tuple[types.ModuleType, Any]:
        from sklearn.linear_model import LinearRegression

        return mloop.sklearn, LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0])


def test_export_model_saves_an_exported_program(home: Path) -> None:
    import torch

    net = TinyNet().eval()
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    with mloop.start_run():
        info = mloop.pytorch.log_model(net, name="net", export_model=True, input_example=x)
    assert info.flavors["pytorch"]["format"] == "export"
    loaded = mloop.pytorch.load_model(info.model_uri)
    assert isinstance(loaded, torch.nn.Module)
    np.testing.assert_allclose(_torch_predict(loaded, x), _torch_predict(net, x), rtol=1e-6)


def test_pickle_module_is_refused(home: Path, tmp_path: Path) -> None:
    import pickle

    with pytest.raises(InvalidInput, match="pickle_module is not taken"):
        mloop.pytorch.save_model(TinyNet(), tmp_path / "m", pickle_module=pickle)
    assert not (tmp_path / "m").exists()


def test_export_model_with_another_torch_format_is_refused(home: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="export_model=True"):
        mloop.pytorch.save_model(
            TinyNet(), tmp_path / "m", export_model=True, torch_format="torchscript"
        )
    assert not (tmp_path / "m").exists()


def test_init_kwargs_that_do_not_rebuild_the_module_are_refused(home: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="init_kwargs"):
        mloop.pytorch.save_model(TinyNet(n_in=3, hidden=7), tmp_path / "m")
    assert not (tmp_path / "m").exists()
