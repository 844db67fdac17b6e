"""Model inputs as the server holds them: frames, arrays, dicts of columns; their rows, joined.

Example:
    >>> import numpy as np
    >>> rows_of({"x": [1, 2, 3]}), rows_of(np.zeros((2, 4))), rows_of(np.float64(1.0))
    (3, 2, 1)
    >>> combine([np.array([[1, 2]]), np.array([[3, 4]])]).tolist()
    [[1, 2], [3, 4]]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def rows_of(data: Any) -> int:
    """Rows in a model input: a frame, an array, a dict of columns or a list; 1 for a scalar."""
    if isinstance(data, Mapping):
        first: Any = next(iter(data.values()), ())
        return len(first) if hasattr(first, "__len__") else 1
    shape = getattr(data, "shape", None)
    if shape is not None:
        return int(shape[0]) if len(shape) else 1
    return len(data) if isinstance(data, (list, tuple)) else 1


def combine(parts: Sequence[Any]) -> Any:
    """Several checked inputs joined by row into one: frames, arrays or dicts of arrays."""
    first = parts[0]
    if hasattr(first, "iloc"):
        import pandas as pd

        return pd.concat(parts, ignore_index=True)
    import numpy as np

    if isinstance(first, Mapping):
        return {key: np.concatenate([part[key] for part in parts]) for key in first}
    return np.concatenate(parts)
