"""PyTorch modules on the CPU, in one of three forms.

- ``state_dict`` (the default for an ``nn.Module``): the weights, loaded with
  ``torch.load(weights_only=True)`` into a new instance of the module's class,
  imported by reference and built with ``init_kwargs``;
- ``export``: a ``torch.export`` program (``.pt2``), traced from the input
  example with a free batch dimension; no Python class needed to load it;
- ``torchscript``: a scripted module (``.pt``). PyTorch deprecates TorchScript
  in favour of ``torch.export``; it is kept for existing scripted models.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mloop.errors import IntegrityError, InvalidInput
from mloop.models.flavors import (
    Predictor,
    SaveOptions,
    class_modules,
    import_reference,
    reference_of,
    require,
)

FORMATS = ("state_dict", "export", "torchscript")


@contextlib.contextmanager
def _quiet_torchscript() -> Iterator[None]:
    # The user chose TorchScript; PyTorch's deprecation notice is in the docs, not at each call.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.jit")
        warnings.filterwarnings(
            "ignore", message=r".*torch\.jit.*deprecated", category=DeprecationWarning
        )
        yield


class TorchPredictor(Predictor):
    """Runs the module under ``inference_mode`` on a tensor built from the input."""

    def __init__(self, module: Any, torch: Any, dtype: Any) -> None:
        super().__init__(module)
        self._torch = torch
        self._dtype = dtype

    def predict(self, data: Any) -> Any:
        """The module's output for the input, as a NumPy array."""
        torch = self._torch
        array = data.to_numpy() if hasattr(data, "to_numpy") else data
        tensor = torch.as_tensor(array, dtype=self._dtype)
        with torch.inference_mode():
            out = self.model(tensor)
        if isinstance(out, tuple | list):
            out = out[0]
        return out.detach().cpu().numpy()


class TorchFlavor:
    """The ``pytorch`` flavor."""

    name = "pytorch"
    extra = "torch"
    packages = ("torch", "numpy")

    def detect(self, model: object) -> bool:
        """An ``nn.Module`` (scripted or not) or an exported program."""
        return "torch" in class_modules(model) and (
            hasattr(model, "state_dict") or hasattr(model, "module")
        )

    def save(self, model: Any, path: Path, options: SaveOptions) -> dict[str, Any]:
        """Write the module in its format (see the module docstring)."""
        torch = require("torch", "torch")
        form = options.torch_format or _natural_format(model, torch)
        if form not in FORMATS:
            raise InvalidInput(f"torch_format must be one of {FORMATS}, got {form!r}")
        dtype = _parameter_dtype(model, torch)
        if form == "torchscript":
            with _quiet_torchscript():
                scripted = (
                    model if isinstance(model, torch.jit.ScriptModule) else torch.jit.script(model)
                )
                torch.jit.save(scripted, str(path / "model.pt"))
            return {"format": form, "file": "model.pt", "dtype": dtype}
        if form == "export":
            program = (
                model
                if isinstance(model, torch.export.ExportedProgram)
                else _export(model, options.example, torch)
            )
            torch.export.save(program, str(path / "model.pt2"))
            return {"format": form, "file": "model.pt2", "dtype": dtype}
        reference = reference_of(type(model), "PyTorch module class")
        kwargs = dict(options.init_kwargs)
        try:
            json.dumps(kwargs)
        except (TypeError, ValueError):
            raise InvalidInput(
                f"init_kwargs must be JSON values (numbers, strings, lists, dicts), got {kwargs!r}"
            ) from None
        state = model.state_dict()
        _check_rebuild(type(model), kwargs, state)
        torch.save(state, str(path / "weights.pt"))
        return {
            "format": form,
            "file": "weights.pt",
            "module": reference,
            "init_kwargs": kwargs,
            "dtype": dtype,
        }

    def load(self, path: Path, loader: Mapping[str, Any]) -> Predictor:
        """Load the module on the CPU, in evaluation mode."""
        torch = require("torch", "torch")
        form = loader.get("format")
        file = str(path / str(loader["file"]))
        dtype = getattr(torch, str(loader.get("dtype", "float32")), torch.float32)
        if form == "torchscript":
            with _quiet_torchscript():
                module = torch.jit.load(file, map_location="cpu")
        elif form == "export":
            module = torch.export.load(file).module()
        elif form == "state_dict":
            cls = import_reference(str(loader["module"]), "PyTorch module class")
            if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
                raise IntegrityError(f"{loader['module']!r} is not a torch.nn.Module class")
            module = cls(**dict(loader.get("init_kwargs") or {}))
            # ``assign``: the weights keep their saved dtypes (a float64 module stays float64).
            state = torch.load(file, map_location="cpu", weights_only=True)
            module.load_state_dict(state, assign=True)
        else:
            raise IntegrityError(f"unknown PyTorch format {form!r} in the manifest")
        if hasattr(module, "eval") and form != "export":
            module.eval()
        return TorchPredictor(module, torch, dtype)


def _natural_format(model: Any, torch: Any) -> str:
    if isinstance(model, torch.jit.ScriptModule):
        return "torchscript"
    if isinstance(model, torch.export.ExportedProgram):
        return "export"
    return "state_dict"


def _parameter_dtype(model: Any, torch: Any) -> str:
    source = model.module() if isinstance(model, torch.export.ExportedProgram) else model
    for parameter in source.parameters():
        return str(parameter.dtype).removeprefix("torch.")
    return "float32"


def _check_rebuild(cls: type, kwargs: dict[str, Any], state: Mapping[str, Any]) -> None:
    """Refuse ``init_kwargs`` that do not build a module the saved weights fit.

    Without this, a forgotten ``init_kwargs`` writes a package that can never load.
    """
    try:
        fresh = cls(**kwargs)
    except (TypeError, ValueError) as err:
        raise InvalidInput(
            f"{cls.__qualname__}(**{kwargs!r}) fails ({err}): pass init_kwargs=... with the "
            "arguments the module was built with"
        ) from None
    built = {k: tuple(getattr(v, "shape", ())) for k, v in fresh.state_dict().items()}
    saved = {k: tuple(getattr(v, "shape", ())) for k, v in state.items()}
    if built != saved:
        differ = sorted(k for k in built.keys() | saved.keys() if built.get(k) != saved.get(k))
        raise InvalidInput(
            f"{cls.__qualname__}(**{kwargs!r}) builds a module whose weights differ from this "
            f"one's in {differ[:5]}: pass init_kwargs=... with the arguments the module was "
            "built with"
        )


def _export(model: Any, example: Any, torch: Any) -> Any:
    if example is None:
        raise InvalidInput("torch_format='export' traces the module: pass input_example=...")
    array = example.to_numpy() if hasattr(example, "to_numpy") else example
    sample = torch.as_tensor(array, dtype=getattr(torch, _parameter_dtype(model, torch)))
    if sample.shape[0] < 2:  # export specializes a dimension of size 1
        sample = sample.repeat(2, *([1] * (sample.dim() - 1)))
    batch = torch.export.Dim("batch")
    name = next(iter(_forward_parameters(model)), "x")
    return torch.export.export(model.eval(), (sample,), dynamic_shapes={name: {0: batch}})


def _forward_parameters(model: Any) -> list[str]:
    import inspect

    return [p for p in inspect.signature(model.forward).parameters if p != "self"]


FLAVOR = TorchFlavor()
