"""Input examples as JSON inside a model package, and back.

A DataFrame keeps its columns, rows and dtypes; an array its dtype and shape;
records stay records. Only the first :data:`MAX_ROWS` rows are kept.

Example:
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    >>> loads(dumps(frame)).equals(frame)
    True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mloop.errors import IntegrityError, InvalidInput

MAX_ROWS = 100


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(example: Any) -> bytes:
    """The example as JSON bytes.

    Raises:
        InvalidInput: the example is not a DataFrame, an array, records or a dict of columns.
    """
    import numpy as np
    import pandas as pd

    if isinstance(example, Mapping) and not isinstance(example, pd.DataFrame):
        example = pd.DataFrame(
            {k: v if isinstance(v, list | tuple) else [v] for k, v in example.items()}
        )
    if isinstance(example, pd.DataFrame):
        frame = example.head(MAX_ROWS)
        document: dict[str, Any] = {
            "type": "dataframe",
            "columns": [str(c) for c in frame.columns],
            "dtypes": [str(t) for t in frame.dtypes],
            "data": frame.astype(object).where(frame.notna(), None).to_numpy().tolist(),
        }
    elif isinstance(example, np.ndarray):
        if example.dtype.kind not in "biuf":
            raise InvalidInput(f"an array input example must be numeric, got dtype {example.dtype}")
        document = {
            "type": "ndarray",
            "dtype": example.dtype.name,
            "data": example[:MAX_ROWS].tolist(),
        }
    elif isinstance(example, list | tuple):
        if example and all(isinstance(row, Mapping) for row in example):
            document = {"type": "records", "data": list(example)[:MAX_ROWS]}
        else:
            return dumps(np.asarray(example))
    else:
        raise InvalidInput(
            "input_example must be a DataFrame, an ndarray, a list of records or a dict of "
            f"columns, got {type(example).__name__}"
        )
    try:
        return json.dumps(document, default=_plain).encode()
    except (TypeError, ValueError) as err:
        raise InvalidInput(f"input_example cannot be stored as JSON: {err}") from None


def loads(data: bytes) -> Any:
    """The example back: a DataFrame, an ndarray or a list of records.

    Raises:
        IntegrityError: the bytes are not an input example.
    """
    import numpy as np
    import pandas as pd

    try:
        document = json.loads(data)
        kind = document["type"]
        if kind == "dataframe":
            frame = pd.DataFrame(document["data"], columns=document["columns"])
            for column, dtype in zip(document["columns"], document["dtypes"], strict=True):
                if dtype not in ("object", "str", "string"):
                    frame[column] = frame[column].astype(dtype)
            return frame
        if kind == "ndarray":
            return np.asarray(document["data"], dtype=document["dtype"])
        if kind == "records":
            return list(document["data"])
    except (ValueError, KeyError, TypeError) as err:
        raise IntegrityError(f"the package's input example is malformed: {err}") from None
    raise IntegrityError(f"the package's input example has unknown type {kind!r}")
