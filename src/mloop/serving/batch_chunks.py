"""One chunk of batch scoring: checked against the signature, predicted, answers appended.

Example:
    >>> import mloop, pandas as pd, pyarrow as pa, tempfile
    >>> from sklearn.linear_model import LinearRegression
    >>> X = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    >>> path = tempfile.mkdtemp() + "/model"
    >>> _ = mloop.models.save(LinearRegression().fit(X, [2.0, 4.0, 6.0]), path, input_example=X)
    >>> scored = score_chunk(mloop.models.load(path), pa.table({"x": [4.0]}), "rows 0-0")
    >>> scored.column_names
    ['x', 'prediction']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa

from mloop.errors import InvalidInput, MloopError
from mloop.models.loaded import LoadedModel

PREDICTION: Final = "prediction"


def prediction_columns(answer: Any, rows: int) -> dict[str, pa.Array]:
    """A model's answer for ``rows`` rows as named columns.

    A DataFrame keeps its columns; a Series, a list or a one-dimensional array
    is one ``prediction`` column; a two-dimensional array is ``prediction``
    (one column) or ``prediction_0``, ``prediction_1`` ….

    Example:
        >>> import numpy as np
        >>> sorted(prediction_columns(np.zeros((2, 2)), 2))
        ['prediction_0', 'prediction_1']

    Raises:
        MloopError: the answer has another number of rows, or more than two dimensions.
    """
    if isinstance(answer, Mapping):
        answer = pd.DataFrame(dict(answer))
    if isinstance(answer, pd.DataFrame):
        table = pa.Table.from_pandas(answer, preserve_index=False)
        columns = {str(name): table.column(i) for i, name in enumerate(answer.columns)}
    elif isinstance(answer, pd.Series):
        columns = {PREDICTION: pa.array(answer.to_numpy())}
    else:
        array = np.asarray(answer)
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]
        if array.ndim == 1:
            columns = {PREDICTION: pa.array(array)}
        elif array.ndim == 2:
            columns = {f"{PREDICTION}_{i}": pa.array(array[:, i]) for i in range(array.shape[1])}
        else:
            raise MloopError(
                f"the model answered with an array of shape {array.shape}, which has no columns "
                "to write: batch scoring writes one- or two-dimensional answers"
            )
    for name, column in columns.items():
        if len(column) != rows:
            raise MloopError(
                f"the model answered {len(column)} value(s) in column {name!r} for {rows} rows"
            )
    return columns


def score_chunk(
    model: LoadedModel, chunk: pa.Table, where: str, keep: Sequence[str] | None = None
) -> pa.Table:
    """``chunk``'s kept columns (all unless ``keep``) with the model's answers appended.

    ``where`` names the rows in errors (``rows 200-299``).

    Raises:
        InvalidInput: the chunk does not match the signature (the column named), a
            column to keep is missing, or an answer column has an input column's name.
    """
    frame = chunk.to_pandas()
    try:
        checked = model.check_input(frame)
    except InvalidInput as err:
        raise InvalidInput(f"{where} of the input: {err}") from None
    answers = prediction_columns(model.predict_checked(checked), chunk.num_rows)
    if keep is not None:
        missing = [name for name in keep if name not in chunk.column_names]
        if missing:
            raise InvalidInput(
                f"no column {', '.join(map(repr, missing))} in the input to keep (its columns: "
                f"{', '.join(chunk.column_names)})"
            )
        chunk = chunk.select(list(keep))
    clash = [name for name in answers if name in chunk.column_names]
    if clash:
        raise InvalidInput(
            f"the model's output column {', '.join(map(repr, clash))} is also an input column: "
            "keep only other input columns (keep=[...], mloop predict --keep COLUMN)"
        )
    for name, column in answers.items():
        chunk = chunk.append_column(name, column)
    return chunk
