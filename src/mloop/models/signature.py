"""Model signatures: what a model takes and returns, inferred from examples, enforced on predict.

A signature's inputs are either named, typed columns (a model fed tables)
or one tensor (dtype and shape, ``-1`` for any size). Enforcement runs on
every ``predict``, so it is built once per model into an :class:`Enforcer`
whose common case — the right columns in the right order with the right
types — costs a few microseconds: safe coercions (int to float, narrower to
wider numbers) happen, anything else is a clear error naming the column and
the expected type.

Example:
    >>> import pandas as pd
    >>> sig = infer_signature(pd.DataFrame({"income": [50.0], "age": [40]}))
    >>> [(c.name, c.type) for c in sig.inputs]
    [('income', 'float64'), ('age', 'int64')]
    >>> Enforcer(sig)(pd.DataFrame({"age": [31], "income": [72]})).dtypes.tolist()
    [dtype('float64'), dtype('int64')]
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mloop.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

STRING, CATEGORY, DATETIME, OBJECT, BOOL = "string", "category", "datetime", "object", "bool"
_NUMERIC = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
_FLOATS = ("float16", "float32", "float64")
COLUMN_TYPES = frozenset({STRING, CATEGORY, DATETIME, OBJECT, BOOL, *_NUMERIC, *_FLOATS})


@dataclasses.dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One named input column and its type (``float64``, ``int64``, ``bool``, ``string`` …).

    ``allow_missing`` says whether the column may hold missing values (NaN,
    None, NA): inferred from the example (False when it has none there), None
    when unknown (signatures written before it existed), which checks nothing.
    """

    name: str
    type: str
    allow_missing: bool | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class TensorSpec:
    """An array's dtype and shape; ``-1`` in the shape means any size (the batch, usually)."""

    dtype: str
    shape: tuple[int, ...]


Inputs = tuple[ColumnSpec, ...] | TensorSpec
PARAM_TYPES = frozenset({"boolean", "long", "double", "string", "datetime"})


@dataclasses.dataclass(frozen=True, slots=True)
class ParamSpec:
    """One inference parameter (MLflow's ``ParamSpec``): its name, type, default and shape.

    ``type`` is ``boolean``, ``long``, ``double``, ``string`` or ``datetime``
    (MLflow's names); ``shape`` is ``(-1,)`` for a list of that type, None for
    one value. A datetime default is kept as its ISO text.
    """

    name: str
    type: str
    default: Any
    shape: tuple[int, ...] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Signature:
    """What a model takes (``inputs``), returns (``outputs``) and its inference ``params``.

    ``params`` is recorded in the package (from ``infer_signature(..., params=)``),
    as MLflow's signature records them; ``predict(data, params=)`` checks the
    caller's params against them (see :mod:`mloop.models.inference_params`).
    """

    inputs: Inputs
    outputs: Inputs | None = None
    params: tuple[ParamSpec, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the package manifest."""
        found: dict[str, Any] = {
            "inputs": _spec_to_dict(self.inputs),
            "outputs": _spec_to_dict(self.outputs),
        }
        if self.params is not None:
            found["params"] = [
                {
                    "name": p.name,
                    "type": p.type,
                    "default": p.default,
                    "shape": None if p.shape is None else list(p.shape),
                }
                for p in self.params
            ]
        return found

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signature:
        """The inverse of :meth:`to_dict`.

        Raises:
            InvalidInput: the mapping is not a signature.
        """
        if not isinstance(data, Mapping) or "inputs" not in data:
            raise InvalidInput(f"a signature is a mapping with 'inputs', got {data!r}")
        inputs = _spec_from_dict(data["inputs"])
        if inputs is None:
            raise InvalidInput("a signature needs inputs")
        params = data.get("params")
        return cls(
            inputs,
            _spec_from_dict(data.get("outputs")),
            None if params is None else _params_from_dict(params),
        )


def _params_from_dict(data: Any) -> tuple[ParamSpec, ...]:
    try:
        specs = tuple(
            ParamSpec(
                str(p["name"]),
                str(p["type"]),
                p["default"],
                None if p.get("shape") is None else tuple(int(d) for d in p["shape"]),
            )
            for p in data
        )
    except (KeyError, TypeError, ValueError) as err:
        raise InvalidInput(f"malformed signature params {data!r}: {err}") from None
    for spec in specs:
        if spec.type not in PARAM_TYPES:
            raise InvalidInput(f"unknown param type {spec.type!r} of param {spec.name!r}")
    return specs


def _spec_to_dict(spec: Inputs | None) -> dict[str, Any] | None:
    if spec is None:
        return None
    if isinstance(spec, TensorSpec):
        return {"type": "tensor", "dtype": spec.dtype, "shape": list(spec.shape)}
    return {"type": "columns", "columns": [_column_to_dict(c) for c in spec]}


def _column_to_dict(column: ColumnSpec) -> dict[str, Any]:
    found: dict[str, Any] = {"name": column.name, "type": column.type}
    if column.allow_missing is not None:
        found["allow_missing"] = column.allow_missing
    return found


def _spec_from_dict(data: Any) -> Inputs | None:
    if data is None:
        return None
    try:
        if data["type"] == "tensor":
            return TensorSpec(str(data["dtype"]), tuple(int(d) for d in data["shape"]))
        if data["type"] == "columns":
            columns = tuple(
                ColumnSpec(str(c["name"]), str(c["type"]), c.get("allow_missing"))
                for c in data["columns"]
            )
            for column in columns:
                if column.type not in COLUMN_TYPES:
                    raise InvalidInput(f"unknown column type {column.type!r}")
                if column.allow_missing not in (None, True, False):
                    raise InvalidInput(f"allow_missing is true or false, got {column!r}")
            return columns
    except (KeyError, TypeError, ValueError) as err:
        raise InvalidInput(f"malformed signature spec {data!r}: {err}") from None
    raise InvalidInput(f"a signature spec's type is 'columns' or 'tensor', got {data!r}")


# -- inference ---------------------------------------------------------------------------


def column_type(dtype: Any, sample: Any = None) -> str:
    """The signature type of a pandas or NumPy dtype (``sample``: a value, for object columns)."""
    name = str(dtype)
    if name == "category":
        return CATEGORY
    kind = getattr(dtype, "kind", "O")
    if kind == "b":
        return BOOL
    if kind in "iuf":  # numpy, or pandas' nullable Int64/Float64 through their numpy dtype
        return str(getattr(dtype, "numpy_dtype", dtype))
    if kind == "M" or name.startswith("datetime64"):
        return DATETIME
    if kind in "OSU" and (name in ("str", "string") or isinstance(sample, str) or kind in "SU"):
        return STRING
    return OBJECT


def as_frame_or_array(data: Any) -> Any:
    """A DataFrame for tables (records, dict of columns), an ndarray for everything else.

    Raises:
        InvalidInput: the data is none of DataFrame, ndarray, list or dict.
    """
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame | np.ndarray):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame().T if data.index.dtype == object else data.to_numpy()
    if isinstance(data, Mapping):
        return pd.DataFrame({k: v if _listlike(v) else [v] for k, v in data.items()})
    if isinstance(data, list | tuple):
        if data and all(isinstance(item, Mapping) for item in data):
            return pd.DataFrame.from_records(list(data))
        return np.asarray(data)
    raise InvalidInput(
        f"model input must be a DataFrame, an ndarray, a list of records or a dict of columns, "
        f"got {type(data).__name__}"
    )


def _listlike(value: Any) -> bool:
    return isinstance(value, list | tuple) or getattr(value, "ndim", 0) > 0  # not NumPy scalars


def _spec_of(value: Any) -> Inputs:
    import pandas as pd

    data = as_frame_or_array(value)
    if isinstance(data, pd.DataFrame):
        specs = []
        for name, dtype in zip(data.columns, data.dtypes, strict=True):
            if not isinstance(name, str):
                raise InvalidInput(f"column names must be strings, got {name!r}")
            series = data[name].dropna()
            sample = series.iloc[0] if len(series) else None
            specs.append(ColumnSpec(name, column_type(dtype, sample), len(series) < len(data)))
        return tuple(specs)
    if data.dtype.kind == "O":
        raise InvalidInput(
            "cannot infer a tensor signature from an array of Python objects; pass a "
            "DataFrame or a numeric array"
        )
    return TensorSpec(data.dtype.name, (-1, *data.shape[1:]))


def infer_signature(
    model_input: Any, model_output: Any = None, params: Mapping[str, Any] | None = None
) -> Signature:
    """A signature from an input example, optionally the model's prediction and its params.

    ``params`` (MLflow's argument) maps each inference parameter to its
    default: a bool, int, float, string or datetime, or a list of one of them.

    Example:
        >>> import numpy as np
        >>> infer_signature(np.zeros((2, 3), dtype="float32"), np.zeros(2)).to_dict()["inputs"]
        {'type': 'tensor', 'dtype': 'float32', 'shape': [-1, 3]}
        >>> [(p.name, p.type, p.shape) for p in infer_signature(np.zeros((1, 1)),
        ...                                                     params={"k": [1, 2]}).params]
        [('k', 'long', (-1,))]

    Raises:
        InvalidInput: the example is not a table or an array; a param that is
            not one of those types (a dict, a nested list, a mixed list).
    """
    outputs = None if model_output is None else _spec_of(model_output)
    specs = None if params is None else infer_params(params)
    return Signature(_spec_of(model_input), outputs, specs)


def infer_params(params: Mapping[str, Any]) -> tuple[ParamSpec, ...]:
    """The :class:`ParamSpec` of each param, from its default value (MLflow's inference).

    Example:
        >>> infer_params({"temperature": 0.5, "greedy": False})
        (ParamSpec(name='temperature', type='double', default=0.5, shape=None), \
ParamSpec(name='greedy', type='boolean', default=False, shape=None))

    Raises:
        InvalidInput: not a mapping of names to values of the types above.
    """
    if not isinstance(params, Mapping):
        raise InvalidInput(f"params are a mapping of name to default, got {type(params).__name__}")
    specs = []
    for name, value in params.items():
        if not isinstance(name, str) or not name:
            raise InvalidInput(f"a param name is a non-empty string, got {name!r}")
        if isinstance(value, (list, tuple)):
            kinds = {_param_type(name, v) for v in value}
            if len(kinds) != 1:
                raise InvalidInput(
                    f"param {name!r} is a list of one type (bool, int, float, str or datetime), "
                    f"got {value!r}"
                )
            default: Any = [_param_default(v) for v in value]
            specs.append(ParamSpec(name, kinds.pop(), default, (-1,)))
        else:
            specs.append(ParamSpec(name, _param_type(name, value), _param_default(value)))
    return tuple(specs)


def _param_type(name: str, value: Any) -> str:
    if isinstance(value, bool) or getattr(value, "dtype", None) == "bool":
        return "boolean"
    if isinstance(value, dt.date):
        return "datetime"
    if isinstance(value, str):
        return "string"
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    if isinstance(value, int) or kind in ("i", "u"):
        return "long"
    if isinstance(value, float) or kind == "f":
        return "double"
    raise InvalidInput(
        f"param {name!r} is a bool, int, float, str or datetime, or a list of one of them, "
        f"got {type(value).__name__} {value!r}"
    )


def _param_default(value: Any) -> Any:
    # Plain values for the manifest: NumPy scalars as Python ones, datetimes as ISO text.
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value


# -- enforcement --------------------------------------------------------------------------


def _accepts(expected: str, actual: Any) -> str | None:
    """``None`` if ``actual`` is fine as is, ``"cast"`` if safely castable, else ``"no"``."""
    import numpy as np

    name = str(actual)
    kind = getattr(actual, "kind", "O")
    if expected == OBJECT:
        return None
    if expected == STRING:
        return None if kind in "OSU" and name != "category" else "no"
    if expected == CATEGORY:
        return None if name == "category" or kind in "OSU" else "no"
    if expected == DATETIME:
        return None if kind == "M" else "no"
    if expected == BOOL:
        return None if kind == "b" else "no"
    target = np.dtype(expected)
    if name == expected:
        return None
    source = getattr(actual, "numpy_dtype", actual)  # nullable extension types
    if kind not in "iuf" or not isinstance(source, np.dtype):  # a bool is not a number here
        return "no"
    if np.can_cast(source, target, casting="safe"):
        return "cast"
    if target.kind == "f" and source.kind in "iu":  # int -> float, as users expect
        return "cast"
    return "no"


def _describe(dtype: Any) -> str:
    return "string" if str(dtype) in ("str", "string", "object") else str(dtype)


class Enforcer:
    """Checks and prepares model input against a signature; built once per loaded model.

    Calling it returns the input as the model should get it: a DataFrame with
    the signature's columns in order (extra columns dropped, safe casts
    applied) or an ndarray of the right dtype and shape.

    Raises (on call):
        InvalidInput: a missing column, a wrong type or shape, naming what was expected.
    """

    def __init__(self, signature: Signature | None) -> None:
        self.signature = signature
        inputs = signature.inputs if signature is not None else None
        self._columns: tuple[str, ...] | None = None
        self._types: tuple[str, ...] = ()
        self._no_missing: frozenset[int] = frozenset()
        self._tensor: TensorSpec | None = None
        if isinstance(inputs, TensorSpec):
            self._tensor = inputs
        elif inputs is not None:
            self._columns = tuple(c.name for c in inputs)
            self._types = tuple(c.type for c in inputs)
            self._no_missing = frozenset(
                i for i, c in enumerate(inputs) if c.allow_missing is False
            )
        self._exact: tuple[Any, ...] | None = None
        self._frame_type: type | None = None
        self._index: Any = None
        self._array_type: type | None = None

    def _prime(self) -> None:
        # Imports and dtype objects are resolved on first call, not when a model loads.
        import numpy as np
        import pandas as pd

        self._frame_type, self._array_type = pd.DataFrame, np.ndarray
        self._index = pd.Index(self._columns or ())
        self._exact = tuple(
            np.dtype(t) if t in _NUMERIC or t in _FLOATS or t == BOOL else None for t in self._types
        )

    def __call__(self, data: Any) -> Any:
        """The input as the model takes it (see the class docstring)."""
        if self._frame_type is None:
            self._prime()
        if type(data) is not self._frame_type and type(data) is not self._array_type:
            data = as_frame_or_array(data)
        if self._columns is not None:
            return self._frame(data)
        if self._tensor is not None:
            return self._array(data)
        return data

    def _frame(self, data: Any) -> pd.DataFrame:
        import pandas as pd

        assert self._columns is not None
        assert self._exact is not None
        if not isinstance(data, pd.DataFrame):
            data = self._frame_from_array(data)
        # Index.equals is the cheapest exact comparison (a tuple of pandas 3's Arrow-backed
        # string labels costs twice as much); anything else takes the slow, explaining path.
        if not _same_labels(data.columns, self._index):
            names = set(data.columns)
            missing = [c for c in self._columns if c not in names]
            if missing:
                raise InvalidInput(_missing_columns(missing, data.columns, self._columns))
            data = data[list(self._columns)]
        dtypes = _dtypes(data)
        if self._no_missing:
            _refuse_missing(data, self._columns, self._no_missing)
        casts: dict[str, str] = {}
        for name, expected, exact, actual in zip(
            self._columns, self._types, self._exact, dtypes, strict=True
        ):
            if exact is not None and actual is exact:
                continue
            verdict = _accepts(expected, actual)
            if verdict == "cast":
                casts[name] = expected
            elif verdict == "no":
                nans = int(data[name].isna().sum())
                raise InvalidInput(
                    f"model input column {name!r} has type {_describe(actual)}, expected "
                    f"{expected}"
                    + (f" (it has {nans} missing value(s), NaN)" if nans else "")
                    + "; convert it before predicting"
                )
        frame: pd.DataFrame = data.astype(casts) if casts else data
        return frame

    def _frame_from_array(self, data: np.ndarray) -> pd.DataFrame:
        import pandas as pd

        assert self._columns is not None
        if data.ndim != 2 or data.shape[1] != len(self._columns):
            raise InvalidInput(
                f"model input has shape {data.shape}; the model takes a table of columns "
                f"{list(self._columns)} (pass a DataFrame, records, or an array of "
                f"{len(self._columns)} columns)"
            )
        return pd.DataFrame(data, columns=list(self._columns))

    def _array(self, data: Any) -> np.ndarray:
        import numpy as np
        import pandas as pd

        spec = self._tensor
        assert spec is not None
        if isinstance(data, pd.DataFrame):
            data = data.to_numpy()
        if data.ndim != len(spec.shape) or any(
            want not in (-1, got) for want, got in zip(spec.shape, data.shape, strict=True)
        ):
            raise InvalidInput(
                f"model input has shape {data.shape}, expected {_shape_text(spec.shape)}"
            )
        if data.dtype.name != spec.dtype:
            verdict = _accepts(spec.dtype, data.dtype)
            if verdict != "cast":
                raise InvalidInput(
                    f"model input has dtype {data.dtype}, expected {spec.dtype}; convert it "
                    "before predicting"
                )
            data = data.astype(np.dtype(spec.dtype))
        array: np.ndarray = data
        return array


def _refuse_missing(data: pd.DataFrame, columns: Sequence[str], positions: frozenset[int]) -> None:
    """Refuse missing values in the columns whose signature says they have none."""
    counts = []
    for position in sorted(_maybe_missing(data, positions)):
        count = int(data.iloc[:, position].isna().sum())
        if count:
            counts.append(f"{columns[position]!r} ({count} of {len(data)} rows)")
    if counts:
        raise InvalidInput(
            f"model input has missing values (NaN) in column(s) its signature says have "
            f"none: {', '.join(counts)}; fill or drop them before predicting, or log the "
            "model with an input example (or signature) that allows missing values there"
        )


def _maybe_missing(data: pd.DataFrame, positions: frozenset[int]) -> set[int]:
    """Those of ``positions`` that may hold a missing value; the rest surely hold none.

    Each block of columns is checked whole (a few microseconds, where a Series
    per column costs tens); NumPy ints and bools cannot hold a missing value.
    """
    import numpy as np
    import pandas as pd

    blocks = getattr(getattr(data, "_mgr", None), "blocks", None)
    if blocks is None:
        return set(positions)
    found: set[int] = set()
    for block in blocks:
        where = block.mgr_locs.indexer
        held = range(*where.indices(data.shape[1])) if isinstance(where, slice) else where
        ours = positions.intersection(int(i) for i in held)
        if not ours:
            continue
        values = block.values
        if isinstance(values, np.ndarray) and values.dtype.kind in "iub":
            continue
        if isinstance(values, np.ndarray) and values.dtype.kind == "f":
            if np.isnan(values).any():
                found |= ours
        elif pd.isna(values).any():
            found |= ours
    return found


def _shape_text(shape: Sequence[int]) -> str:
    return "(" + ", ".join("any" if d == -1 else str(d) for d in shape) + ")"


def _same_labels(columns: Any, expected: Any) -> bool:
    """Whether a frame's column labels are exactly ``expected`` (a pandas Index), in order."""
    # Comparing the backing arrays skips Index.equals' own checks: half the cost, which
    # matters on every predict of a fresh one-row frame.
    array: Any = getattr(columns, "array", None)
    want: Any = expected.array
    if array is not None and type(array) is type(want) and len(array) == len(want):
        return bool(array.equals(want))
    return bool(columns.equals(expected))


def _dtypes(frame: pd.DataFrame) -> Sequence[Any]:
    """Each column's dtype, in order.

    ``frame.dtypes`` builds a Series (~25 us); reading the block manager's blocks
    takes a few. Frames without one (other pandas versions) take the public route.
    """
    blocks = getattr(getattr(frame, "_mgr", None), "blocks", None)
    width = frame.shape[1]
    if blocks is None:
        return list(frame.dtypes)
    if len(blocks) == 1:
        return [blocks[0].dtype] * width
    found: list[Any] = [None] * width
    for block in blocks:
        where = block.mgr_locs.indexer
        positions = range(*where.indices(width)) if isinstance(where, slice) else where.tolist()
        for position in positions:
            found[position] = block.dtype
    if any(d is None for d in found):
        return list(frame.dtypes)
    return found


_NAMED = 5  # columns an error names before it says how many more


def _some(names: Sequence[Any]) -> str:
    shown = ", ".join(repr(name) for name in names[:_NAMED])
    return shown if len(names) <= _NAMED else f"{shown} and {len(names) - _NAMED:,} more"


def _missing_columns(missing: Sequence[Any], given: Any, expected: Sequence[Any]) -> str:
    """Which columns an input lacks (and has that the model does not take), named briefly.

    Example:
        >>> _missing_columns(["age"], ["agee", "income"], ["age", "income"])
        "model input is missing column(s) ['age'] of the model's 2; it has 1 the model does \
not take: 'agee'"
    """
    wanted = set(expected)
    extra = [name for name in given if name not in wanted]
    head = (
        f"model input is missing column(s) {list(missing)}"
        if len(missing) <= _NAMED
        else f"model input is missing {len(missing):,} column(s): {_some(missing)}"
    )
    text = f"{head} of the model's {len(expected):,}"
    if extra:
        text += f"; it has {len(extra):,} the model does not take: {_some(extra)}"
    return text
