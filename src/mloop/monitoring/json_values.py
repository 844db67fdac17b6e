"""Values as JSON holds them: what the monitoring results write to reports and state.

Example:
    >>> import numpy as np
    >>> scalar(np.int64(3)), scalar("a")
    (3, 'a')
    >>> jsonable({"x": np.float64("nan"), "y": (np.int64(1), 2.5)})
    {'x': None, 'y': [1, 2.5]}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def scalar(value: Any) -> Any:
    """A NumPy scalar as the Python value it holds (JSON knows no ``np.int64``), else ``value``."""
    return value.item() if isinstance(value, np.generic) else value


def jsonable(value: Any) -> Any:
    """``value`` with NumPy numbers as Python ones, NaN and infinities as None, tuples as lists.

    Anything else JSON cannot hold is written as its text.
    """
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    value = scalar(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
