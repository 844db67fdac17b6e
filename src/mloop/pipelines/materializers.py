"""How step outputs become bytes in the artifact store, and back.

A materializer turns one kind of value into bytes and back. The built-ins
cover what steps usually pass: JSON-able Python values, ``bytes``, NumPy
arrays (``.npy``), pandas DataFrames, Series and Arrow tables (Parquet), SciPy
sparse matrices and torch tensors (:mod:`~mloop.pipelines.library_materializers`),
and dataset versions (by reference). Third parties add more through the
``mloop.materializers`` entry-point group; each entry names a
:class:`Materializer` instance. ``pickle`` is never chosen on its own: a step
asks for it by name, as a last resort for values nothing else can store,
knowing that unpickling runs code and breaks across library versions.

Example:
    >>> m = for_value({"lr": 0.1})
    >>> m.name, m.loads(m.dumps({"lr": 0.1}))
    ('json', {'lr': 0.1})
"""

from __future__ import annotations

import io
import json
import math
import pickle
import types
import typing
from typing import Any

from mloop.data.api import get as get_dataset
from mloop.errors import InvalidInput, NotFound
from mloop.pipelines import library_materializers, model_materializers
from mloop.pipelines.materializer import Materializer as Materializer
from mloop.pipelines.materializer import by_class as _by_class
from mloop.pipelines.materializer import type_named as _type_named
from mloop.plugins import Registry

# -- JSON -------------------------------------------------------------------------

_JSON_SCALARS = (type(None), bool, int, float, str)


def _json_type(tp: Any) -> bool:
    if tp in _JSON_SCALARS or tp is None:
        return True
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (list, tuple) and not args:
        return True
    if origin is list:
        return _json_type(args[0])
    if origin is dict:
        return len(args) == 2 and args[0] is str and _json_type(args[1])
    if origin in (typing.Union, types.UnionType):
        return all(_json_type(a) for a in args)
    return tp in (list, dict)


def _json_value(value: Any) -> bool:
    if isinstance(value, _JSON_SCALARS):
        return not isinstance(value, float) or math.isfinite(value)
    if isinstance(value, list):
        return all(_json_value(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_value(v) for k, v in value.items())
    return False


JSON = Materializer(
    name="json",
    version="1",
    suffix=".json",
    handles_type=_json_type,
    handles_value=_json_value,
    dumps=lambda v: json.dumps(v, sort_keys=True, separators=(",", ":")).encode(),
    loads=lambda b: json.loads(b),
)

BYTES = Materializer(
    name="bytes",
    version="1",
    suffix=".bin",
    handles_type=lambda tp: tp is bytes,
    handles_value=lambda v: isinstance(v, bytes),
    dumps=bytes,
    loads=bytes,
)


# -- NumPy, pandas, Arrow --------------------------------------------------------------


def _npy_dumps(value: Any) -> bytes:
    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, value, allow_pickle=False)
    return buffer.getvalue()


def _npy_loads(data: bytes) -> Any:
    import numpy as np

    return np.load(io.BytesIO(data), allow_pickle=False)


def _is_numeric_array(value: Any) -> bool:
    return _type_named(type(value), "numpy", "ndarray") and value.dtype.kind != "O"


NUMPY = Materializer(
    name="numpy",
    version="1",
    suffix=".npy",
    handles_type=lambda tp: _type_named(typing.get_origin(tp) or tp, "numpy", "ndarray"),
    handles_value=_is_numeric_array,
    dumps=_npy_dumps,
    loads=_npy_loads,
)


def _parquet_dumps(table: Any) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


def _parquet_loads(data: bytes) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pq.read_table(pa.BufferReader(data))


def _frame_dumps(frame: Any) -> bytes:
    import pyarrow as pa

    return _parquet_dumps(pa.Table.from_pandas(frame))  # keeps the index


ARROW = Materializer(
    name="arrow",
    version="1",
    suffix=".parquet",
    **_by_class("pyarrow", "Table"),
    dumps=_parquet_dumps,
    loads=_parquet_loads,
)

PANDAS = Materializer(
    name="pandas",
    version="1",
    suffix=".parquet",
    **_by_class("pandas", "DataFrame"),
    dumps=_frame_dumps,
    loads=lambda b: _parquet_loads(b).to_pandas(),
)


# -- dataset versions, by reference ------------------------------------------------------


def _dataset_dumps(value: Any) -> bytes:
    return json.dumps({"ref": value.ref, "digest": value.digest}).encode()


def _dataset_loads(data: bytes) -> Any:
    reference = json.loads(data)
    try:
        dataset = get_dataset(reference["ref"])
    except NotFound:
        raise NotFound(
            f"dataset version {reference['ref']} that this output names was removed"
        ) from None
    if dataset.digest != reference["digest"]:
        raise InvalidInput(
            f"dataset {reference['ref']} is no longer the version this output named "
            f"(digest {reference['digest'][:12]}); it was removed and re-added"
        )
    return dataset


DATASET = Materializer(
    name="dataset",
    version="1",
    suffix=".json",
    **_by_class("mloop.data", "Dataset"),
    dumps=_dataset_dumps,
    loads=_dataset_loads,
)


# -- pickle: only when asked for --------------------------------------------------------------

PICKLE = Materializer(
    name="pickle",
    version="1",
    suffix=".pkl",
    handles_type=lambda tp: False,  # never chosen by type; a step names it
    handles_value=lambda v: False,
    dumps=lambda v: pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL),
    loads=lambda b: pickle.loads(b),
)

_BUILTINS = (
    DATASET,
    model_materializers.MODEL_INFO,
    PANDAS,
    ARROW,
    *library_materializers.MATERIALIZERS,
    NUMPY,
    BYTES,
    JSON,
    model_materializers.MODEL,
)
_BY_NAME = {m.name: m for m in (*_BUILTINS, PICKLE)}
registry = Registry("mloop.materializers")


def _plugins() -> list[Materializer]:
    found = []
    for name in registry.names():
        plugin = registry.load(name)
        if not isinstance(plugin, Materializer):
            raise InvalidInput(
                f"entry point {name!r} of mloop.materializers is a {type(plugin).__name__}, "
                "not an mloop.pipelines.Materializer"
            )
        found.append(plugin)
    return found


def by_name(name: str) -> Materializer:
    """The materializer called ``name`` (built-in or from an entry point).

    Raises:
        InvalidInput: no such materializer; the message lists the known ones.
    """
    if name in _BY_NAME:
        return _BY_NAME[name]
    for plugin in _plugins():
        if plugin.name == name:
            return plugin
    known = sorted({*_BY_NAME, *(p.name for p in _plugins())})
    raise InvalidInput(f"no materializer named {name!r}; known: {', '.join(known)}")


def for_type(tp: Any) -> Materializer | None:
    """The materializer for a type annotation, or None when none handles it."""
    for candidate in (*_plugins(), *_BUILTINS):
        if candidate.handles_type(tp):
            return candidate
    return None


def for_value(value: Any) -> Materializer:
    """The materializer for a value a step returned.

    Raises:
        InvalidInput: nothing handles the value.
    """
    for candidate in (*_plugins(), *_BUILTINS):
        if candidate.handles_value(value):
            return candidate
    raise InvalidInput(
        f"no materializer stores a {type(value).__module__}.{type(value).__qualname__}; "
        "return JSON-able values, bytes, NumPy arrays, DataFrames, Series, Arrow tables, "
        "SciPy sparse matrices or torch tensors, register "
        "one (entry point mloop.materializers), or name materializers={...: 'pickle'} "
        "on the step as a last resort"
    )
