"""A loaded model: one ``predict`` over DataFrames, arrays and records, checked by its signature.

Example:
    >>> import mloop, pandas as pd, tempfile
    >>> from sklearn.linear_model import LinearRegression
    >>> X = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    >>> path = tempfile.mkdtemp() + "/model"
    >>> _ = mloop.models.save(LinearRegression().fit(X, [2.0, 4.0, 6.0]), path, input_example=X)
    >>> model = mloop.models.load(path)
    >>> model.predict(pd.DataFrame({"x": [4]})).round(3)  # an int column becomes float
    array([8.])
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mloop.errors import InvalidInput
from mloop.models import examples
from mloop.models.flavors import Predictor
from mloop.models.inference_params import ParamEnforcer
from mloop.models.package import Manifest
from mloop.models.signature import Enforcer, Signature


class ModelMetadata(dict[str, Any]):
    """The user metadata saved with a model: a dict, that also answers as MLflow's ``Model`` does.

    ``signature``, ``run_id``, ``flavors`` (``{flavor: loader settings}``),
    ``metadata`` (the dict itself), ``get_input_schema()`` and
    ``get_output_schema()``, so ``model.metadata.signature`` reads as in MLflow.
    """

    def __init__(self, manifest: Manifest) -> None:
        super().__init__(manifest.metadata)
        self.signature = manifest.signature
        self.run_id = manifest.run_id
        self.flavors = {manifest.flavor: dict(manifest.loader)}

    @property
    def metadata(self) -> dict[str, Any]:
        """The user metadata as a plain dict."""
        return dict(self)

    def get_input_schema(self) -> Any:
        """What the model takes (the signature's inputs), or None."""
        return self.signature.inputs if self.signature is not None else None

    def get_output_schema(self) -> Any:
        """What the model returns (the signature's outputs), or None."""
        return self.signature.outputs if self.signature is not None else None


class LoadedModel:
    """A model package loaded into memory.

    ``predict`` takes a DataFrame, an ndarray, a list of records or a dict of
    columns; the input is checked against the signature first (safe coercions
    happen, anything else raises InvalidInput naming the column). Classifiers
    load as :class:`LoadedClassifier`, which adds ``predict_proba``.
    """

    def __init__(self, manifest: Manifest, predictor: Predictor, path: Path, uri: str) -> None:
        self.manifest = manifest
        self.uri = uri
        self.path = path
        self._predictor = predictor
        self._enforce = Enforcer(manifest.signature)
        self._params = ParamEnforcer(manifest.signature)
        # Declared defaults go only to a model that takes params; others predict as before.
        self._fills_defaults = self._params.fills_defaults and predictor.takes_params
        self._predict = predictor.predict

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.flavor} {self.uri} digest={self.digest[:12]}>"

    @property
    def flavor(self) -> str:
        """The flavor that loaded it (``sklearn``, ``pytorch`` …)."""
        return self.manifest.flavor

    @property
    def digest(self) -> str:
        """The package digest (what registration signs)."""
        return self.manifest.digest

    @property
    def signature(self) -> Signature | None:
        """What the model takes and returns, if known."""
        return self.manifest.signature

    @property
    def metadata(self) -> ModelMetadata:
        """The user metadata saved with the model (a dict with MLflow's ``Model`` fields too)."""
        return ModelMetadata(self.manifest)

    @property
    def model(self) -> Any:
        """The native model object (an estimator, a booster, a module, a session …)."""
        return self._predictor.model

    @property
    def input_example(self) -> Any:
        """The input example saved with the model, or None."""
        if self.manifest.input_example is None:
            return None
        return examples.loads((self.path / self.manifest.input_example).read_bytes())

    def predict(self, data: Any, params: Mapping[str, Any] | None = None) -> Any:
        """Predictions for ``data``, after checking it against the signature.

        ``params`` go to a :class:`~mloop.models.PythonModel` whose ``predict``
        takes them (MLflow's ``predict(self, context, model_input, params=None)``),
        checked as MLflow checks them when the signature declares params: those
        left out get their defaults, given ones are converted to the declared
        type and shape where that is safe, undeclared ones are dropped with a
        warning. A signature that declares no params drops them all with a
        warning; a model without a signature gets them as they are.

        Raises:
            InvalidInput: a missing column, or a type or shape the signature does not accept;
                a param of a type or shape its declaration does not accept; ``params`` for a
                model that takes none.
        """
        if params is None and not self._fills_defaults:
            return self._predict(self._enforce(data))
        prepared = self._enforce(data)
        chosen = self._params(params)
        if chosen is None:
            return self._predict(prepared)
        return self._predictor.predict_with_params(prepared, chosen)

    def check_input(self, data: Any) -> Any:
        """``data`` as the model takes it, checked against the signature, as ``predict`` does.

        A server checks each request on its own (so a bad one gets its own
        error), then predicts several checked inputs in one call with
        :meth:`predict_checked`.

        Example:
            >>> import mloop, pandas as pd, tempfile
            >>> from sklearn.linear_model import LinearRegression
            >>> X = pd.DataFrame({"x": [1.0, 2.0]})
            >>> path = tempfile.mkdtemp() + "/model"
            >>> _ = mloop.models.save(LinearRegression().fit(X, [2.0, 4.0]), path, input_example=X)
            >>> model = mloop.models.load(path)
            >>> model.check_input(pd.DataFrame({"x": [3]})).dtypes.tolist()
            [dtype('float64')]

        Raises:
            InvalidInput: as :meth:`predict`.
        """
        return self._enforce(data)

    def predict_checked(self, data: Any, params: Mapping[str, Any] | None = None) -> Any:
        """Predictions for input :meth:`check_input` gave back (or several, joined by row).

        Raises:
            InvalidInput: a param the signature does not accept, as :meth:`predict`.
        """
        if params is None and not self._fills_defaults:
            return self._predict(data)
        chosen = self._params(params)
        if chosen is None:
            return self._predict(data)
        return self._predictor.predict_with_params(data, chosen)

    def unwrap_python_model(self) -> Any:
        """The :class:`~mloop.models.PythonModel` instance inside a ``pyfunc`` package.

        Raises:
            InvalidInput: the package holds another flavor's model (see :attr:`model`).
        """
        if self.flavor != "pyfunc":
            raise InvalidInput(
                f"{self.uri} holds a {self.flavor!r} model, not a PythonModel: its native "
                "object is .model"
            )
        return self._predictor.model


class LoadedClassifier(LoadedModel):
    """A loaded model that also gives class probabilities."""

    def predict_proba(self, data: Any) -> Any:
        """Class probabilities for ``data``, one column per class."""
        return self._predictor.predict_proba(self._enforce(data))


def wrap(manifest: Manifest, predictor: Predictor, path: Path, uri: str) -> LoadedModel:
    """A :class:`LoadedClassifier` when the model has probabilities, else a :class:`LoadedModel`."""
    cls = LoadedClassifier if predictor.has_proba else LoadedModel
    return cls(manifest, predictor, path, uri)
