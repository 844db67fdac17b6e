"""What every integration logs the same way: params, the fitted model, the training data.

Example:
    >>> loggable_params({"C": 1.0, "solver": "lbfgs", "note": "x" * 7000})["note"][-3:]
    '...'
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from mloop.autologging.session import Session
from mloop.entities import RunIO
from mloop.models import api as models
from mloop.models.signature import infer_signature
from mloop.tracking.validation import MAX_KEY_LENGTH, MAX_PARAM_VALUE_LENGTH

EXAMPLE_ROWS = 5  # rows of the training data kept as the input example, as MLflow


def loggable_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Params as strings, a value too long to store cut short (marked with ``...``)."""
    out: dict[str, str] = {}
    for key, value in params.items():
        name = str(key)
        if len(name) > MAX_KEY_LENGTH:
            continue  # no store can hold the name; MLflow drops such params too
        text = value if isinstance(value, str) else repr(value) if callable(value) else str(value)
        if len(text) > MAX_PARAM_VALUE_LENGTH:
            text = text[: MAX_PARAM_VALUE_LENGTH - 3] + "..."
        out[name] = text
    return out


def log_params(session: Session, params: Mapping[str, Any]) -> None:
    """Log ``params`` to the session's run, long values cut short, those logged already left out."""
    fresh = {k: v for k, v in loggable_params(params).items() if k not in session.logged_params}
    session.client.log_params(session.run_id, fresh)
    session.logged_params.update(fresh)


def head(data: Any, rows: int = EXAMPLE_ROWS) -> Any:
    """The first ``rows`` rows of a DataFrame, array or list (a sparse matrix made dense)."""
    if hasattr(data, "iloc"):
        return data.iloc[:rows].copy()
    part = data[:rows]
    if hasattr(part, "toarray"):
        return part.toarray()
    return part.copy() if hasattr(part, "copy") else list(part)


def log_model(
    session: Session,
    model: Any,
    example_rows: Any,
    predict: Any = None,
    artifact_path: str = "model",
    registered_model_name: str | None = None,
) -> None:
    """Log ``model`` under ``artifact_path`` with a signature and, if asked, an input example.

    ``example_rows`` are a few training rows (None when unknown); ``predict``
    gives the model's outputs for them (the model's own ``predict`` when None).
    """
    options = session.options
    signature = None
    input_example = example_rows if options.log_input_examples else None
    if options.log_model_signatures and example_rows is not None:
        output = (predict or model.predict)(example_rows)
        signature = infer_signature(example_rows, output)
    models.log_model(
        model,
        artifact_path,
        signature=signature,
        input_example=input_example,
        registered_model_name=registered_model_name,
    )


def log_dataset(session: Session, data: Any, context: str) -> None:
    """Record the data a model was trained (``train``) or evaluated (``eval``) on, by digest."""
    digest = data_digest(data)
    record = RunIO(
        digest=digest,
        name=f"dataset_{digest[:8]}",
        kind="dataset",
        direction="input",
        source=f"autolog:{type(data).__module__}.{type(data).__qualname__}",
        context=context,
    )
    session.client.log_inputs(session.run_id, [record])


def data_digest(data: Any) -> str:
    """A SHA-256 of a table's or array's values, shape and types (the same data, the same digest).

    Example:
        >>> import numpy as np
        >>> data_digest(np.arange(4)) == data_digest(np.arange(4)), len(data_digest([1, 2]))
        (True, 64)
    """
    import numpy as np
    import pandas as pd

    sha = hashlib.sha256()
    if isinstance(data, pd.DataFrame | pd.Series):
        names = data.columns if isinstance(data, pd.DataFrame) else [data.name]
        sha.update(repr([str(name) for name in names]).encode())
        sha.update(pd.util.hash_pandas_object(data, index=False).to_numpy().tobytes())
        return sha.hexdigest()
    if hasattr(data, "toarray"):
        data = data.toarray()
    array = np.asarray(data)
    sha.update(f"{array.dtype.str}{array.shape}".encode())
    if array.dtype.kind == "O":
        sha.update(repr(array.tolist()).encode())
    else:
        sha.update(np.ascontiguousarray(array).tobytes())
    return sha.hexdigest()


def fit_data(
    original: Callable[..., Any], estimator: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, Any, Any]:
    """``X``, ``y`` and ``sample_weight`` of a fitting call (None for what it lacks)."""
    try:
        bound = inspect.signature(original).bind(estimator, *args, **kwargs)
    except TypeError:
        return None, None, None  # the call itself will say what is wrong
    named: dict[str, Any] = {}
    for name, value in list(bound.arguments.items())[1:]:
        kind = bound.signature.parameters[name].kind
        named.update(value if kind is inspect.Parameter.VAR_KEYWORD else {name: value})
    first = next(iter(named.values()), None)
    return first, named.get("y", named.get("Y")), named.get("sample_weight")
