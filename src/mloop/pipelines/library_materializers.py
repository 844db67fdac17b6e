"""Step outputs of optional libraries: pandas Series, SciPy sparse matrices, torch tensors.

Each is matched by class name, so checking an annotation or a value never
imports the library: a value of one of these types exists only when its
library is already imported, and the library is imported here only to store
or load such a value.

- ``pandas.Series`` (the usual type of ``y``) as a one-column Parquet file;
  the name, the index and the dtype come back.
- SciPy sparse matrices and arrays in the formats ``scipy.sparse.save_npz``
  writes (CSR, CSC, COO, BSR, DIA) as ``.npz``; they come back in their format.
- ``torch.Tensor`` through ``torch.save``, loaded with ``weights_only=True``
  (no code runs on load); a tensor comes back detached, on the CPU.

Example:
    >>> import pandas as pd
    >>> y = pd.Series([0, 1, 1], name="label")
    >>> SERIES.handles_value(y), SERIES.loads(SERIES.dumps(y)).tolist()
    (True, [0, 1, 1])
"""

from __future__ import annotations

import io
import json
from typing import Any

from mloop.pipelines.materializer import Materializer, by_class, type_named

# -- pandas Series ---------------------------------------------------------------------

_COLUMN = "__series__"
_NAME_KEY = b"mloop.series_name"


def _series_dumps(series: Any) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(series.to_frame(name=_COLUMN))  # keeps the index
    try:
        name = json.dumps(series.name)
    except TypeError:
        name = json.dumps(str(series.name))
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), _NAME_KEY: name})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


def _series_loads(data: bytes) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(pa.BufferReader(data))
    name = json.loads((table.schema.metadata or {}).get(_NAME_KEY, b"null"))
    series = table.to_pandas()[_COLUMN]
    series.name = tuple(name) if isinstance(name, list) else name
    return series


SERIES = Materializer(
    name="pandas_series",
    version="1",
    suffix=".parquet",
    **by_class("pandas", "Series"),
    dumps=_series_dumps,
    loads=_series_loads,
)


# -- SciPy sparse ----------------------------------------------------------------------

_SPARSE_FORMATS = frozenset({"csr", "csc", "coo", "bsr", "dia"})
_SPARSE_CLASSES = frozenset(
    f"{fmt}_{kind}" for fmt in _SPARSE_FORMATS for kind in ("matrix", "array")
)


def _sparse_type(tp: Any) -> bool:
    return isinstance(tp, type) and any(type_named(tp, "scipy.sparse", n) for n in _SPARSE_CLASSES)


def _sparse_value(value: Any) -> bool:
    return _sparse_type(type(value)) and value.dtype.kind != "O"


def _sparse_dumps(value: Any) -> bytes:
    import scipy.sparse  # type: ignore[import-untyped]

    buffer = io.BytesIO()
    scipy.sparse.save_npz(buffer, value, compressed=True)
    return buffer.getvalue()


def _sparse_loads(data: bytes) -> Any:
    import scipy.sparse

    return scipy.sparse.load_npz(io.BytesIO(data))


SCIPY_SPARSE = Materializer(
    name="scipy_sparse",
    version="1",
    suffix=".npz",
    handles_type=_sparse_type,
    handles_value=_sparse_value,
    dumps=_sparse_dumps,
    loads=_sparse_loads,
)


# -- torch tensors ---------------------------------------------------------------------


def _tensor_dumps(tensor: Any) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(tensor.detach().cpu(), buffer)
    return buffer.getvalue()


def _tensor_loads(data: bytes) -> Any:
    import torch

    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


TORCH_TENSOR = Materializer(
    name="torch_tensor",
    version="1",
    suffix=".pt",
    **by_class("torch", "Tensor"),
    dumps=_tensor_dumps,
    loads=_tensor_loads,
)

MATERIALIZERS = (SERIES, SCIPY_SPARSE, TORCH_TENSOR)
