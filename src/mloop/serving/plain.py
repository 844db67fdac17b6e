"""The plain protocol of ``POST /predict``: a JSON list of records, or an object of columns.

For people writing ``curl``: ``[{"age": 41, "income": 72000}]`` or
``{"age": [41, 35], "income": [72000, 51000]}``; the answer is
``{"predictions": [...]}``, as MLflow's scoring protocol answers.

Example:
    >>> decode_plain(b'[{"x": 1.5}, {"x": 2.5}]')["x"].tolist()
    [1.5, 2.5]
    >>> decode_plain(b'{"x": [1, 2]}')["x"].tolist()
    [1, 2]
"""

from __future__ import annotations

import json
from typing import Any

from mloop.errors import InvalidInput

_USAGE = (
    'send a JSON list of records ([{"col": 1}, ...]) or an object of equally long '
    'columns ({"col": [1, 2]})'
)


def decode_plain(body: bytes) -> Any:
    """The DataFrame a ``/predict`` body stands for.

    Raises:
        InvalidInput: not JSON, or neither records nor columns.
    """
    import pandas as pd

    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InvalidInput(f"the body is not JSON ({err}): {_USAGE}") from None
    if isinstance(value, list):
        if not value or not all(isinstance(row, dict) for row in value):
            raise InvalidInput(f"a list body must hold one object per row: {_USAGE}")
        return pd.DataFrame.from_records(value)
    if isinstance(value, dict) and value:
        if not all(isinstance(v, list) for v in value.values()):
            raise InvalidInput(f"every value of a columns body must be a list: {_USAGE}")
        lengths = {len(v) for v in value.values()}
        if len(lengths) != 1:
            raise InvalidInput(f"the columns are not equally long ({sorted(lengths)}): {_USAGE}")
        return pd.DataFrame(value)
    raise InvalidInput(f"the body holds no rows: {_USAGE}")
