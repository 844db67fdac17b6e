"""Tables and images as run artifacts: MLflow's ``log_table``, ``load_table`` and ``log_image``.

A table is stored as JSON in pandas' ``split`` layout (``{"columns": [...],
"data": [[...], ...]}``), the layout MLflow writes, so one file reads back the
same in either tool. Images are stored as PNG (or the format their file
extension names); numpy arrays are encoded with matplotlib (the ``plot``
extra), PIL images with PIL.

Example:
    >>> table_json({"a": [1, 2], "b": ["x", "y"]})
    '{"columns": ["a", "b"], "data": [[1, "x"], [2, "y"]]}'
"""

from __future__ import annotations

import importlib
import io
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, cast

from mloop.errors import InvalidInput, MissingExtra, NotFound
from mloop.tracking.artifact_files import check_artifact_path
from mloop.tracking.validation import metric_step, validate_key

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mloop.tracking.client import Client

IMAGES_FOLDER = "images"
_IMAGE_FORMATS = ("png", "jpg", "jpeg", "gif", "tif", "tiff", "bmp", "webp")


def table_json(data: Mapping[str, Sequence[Any]] | pd.DataFrame) -> str:
    """A table as JSON in the ``split`` layout; columns must be equally long.

    Raises:
        InvalidInput: not a DataFrame or mapping, columns of different lengths,
            or a value JSON cannot hold.

    Example:
        >>> table_json({"n": [1]})
        '{"columns": ["n"], "data": [[1]]}'
    """
    pandas = importlib.import_module("pandas")
    if isinstance(data, Mapping):
        lengths = {name: len(values) for name, values in data.items()}
        if len(set(lengths.values())) > 1:
            raise InvalidInput(f"log_table's columns must be equally long, got lengths {lengths}")
        frame = pandas.DataFrame(dict(data))
    elif isinstance(data, pandas.DataFrame):
        frame = data
    else:
        raise InvalidInput(
            f"log_table takes a pandas DataFrame or a mapping of column to values, "
            f"got {type(data).__name__}"
        )
    try:  # pandas turns numpy scalars, NaN and timestamps into JSON values
        split = json.loads(frame.to_json(orient="split", index=False, date_format="iso"))
    except (TypeError, ValueError, OverflowError) as err:
        raise InvalidInput(f"log_table could not serialize the table: {err}") from None
    return json.dumps({"columns": split["columns"], "data": split["data"]})


def log_table(
    client: Client,
    run_id: str,
    data: Mapping[str, Sequence[Any]] | pd.DataFrame,
    artifact_file: str,
) -> None:
    """Store a table as the JSON artifact ``artifact_file`` (a ``.json`` path) of a run.

    Raises:
        InvalidInput: the path does not end in ``.json``, or the table cannot be stored.

    Example:
        >>> log_table(client, run_id, {"x": [1, 2]}, "tables/x.json")  # doctest: +SKIP
    """
    if not str(artifact_file).endswith(".json"):
        raise InvalidInput(f"log_table's artifact_file must end in .json, got {artifact_file!r}")
    client.log_text(run_id, table_json(data), artifact_file)


def load_table(
    client: Client,
    artifact_file: str,
    run_ids: Sequence[str],
    extra_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The table ``artifact_file`` of each run that has it, stacked in ``run_ids`` order.

    ``extra_columns`` names run fields (``run_id``, ``run_name``,
    ``experiment_id``, ``status``…) added as columns, so rows say their run.
    Runs without the file are skipped.

    Raises:
        NotFound: no run has the file.
        InvalidInput: an unknown extra column, or a file that is not a table.

    Example:
        >>> load_table(client, "tables/x.json", [run_id], ["run_id"])  # doctest: +SKIP
    """
    pandas = importlib.import_module("pandas")
    extras = list(extra_columns or ())
    frames = []
    for run_id in run_ids:
        try:
            text = client.load_text(run_id, artifact_file)
        except NotFound:
            continue
        frame = _frame(pandas, text, artifact_file, run_id)
        if extras:
            info = client.get_run(run_id).info
            for name in extras:
                if not hasattr(info, name) or name.startswith("_"):
                    raise InvalidInput(
                        f"extra column {name!r} is not a run field; use one of run_id, "
                        "run_name, experiment_id, status, start_time, end_time"
                    )
                value = getattr(info, name)
                frame[name] = getattr(value, "value", value)
        frames.append(frame)
    if not frames:
        raise NotFound(f"no run among {len(run_ids)} has the table artifact {artifact_file!r}")
    return cast("pd.DataFrame", pandas.concat(frames, ignore_index=True))


def _frame(pandas: Any, text: str, artifact_file: str, run_id: str) -> pd.DataFrame:
    try:
        table = json.loads(text)
        return cast("pd.DataFrame", pandas.DataFrame(table["data"], columns=table["columns"]))
    except (ValueError, KeyError, TypeError) as err:
        raise InvalidInput(
            f"run {run_id}'s artifact {artifact_file!r} is not a table logged by log_table: {err}"
        ) from None


def image_bytes(image: Any, image_format: str = "png") -> bytes:
    """Encode a numpy array (shape HxW, HxWx1, HxWx3 or HxWx4) or a PIL image.

    Integer arrays hold values 0-255; float arrays 0.0-1.0.

    Raises:
        InvalidInput: an unsupported type, shape or value range.
        MissingExtra: a numpy array without matplotlib installed.

    Example:
        >>> import numpy as np
        >>> image_bytes(np.zeros((2, 2), dtype=np.uint8))[1:4] == b"PNG"
        True
    """
    if hasattr(image, "save") and hasattr(image, "mode"):  # a PIL image
        buffer = io.BytesIO()
        image.save(buffer, format="jpeg" if image_format == "jpg" else image_format)
        return buffer.getvalue()
    numpy = importlib.import_module("numpy")  # numpy loads when an image is logged
    if not isinstance(image, numpy.ndarray):
        raise InvalidInput(
            f"log_image takes a numpy array or a PIL image, got {type(image).__name__}"
        )
    array = _checked_array(numpy, image)
    try:
        pyplot_image = importlib.import_module("matplotlib.image")
    except ImportError:
        raise MissingExtra("matplotlib", extra="plot") from None
    buffer = io.BytesIO()
    top = 1.0 if array.dtype.kind == "f" else 255
    pyplot_image.imsave(buffer, array, format=image_format, cmap="gray", vmin=0, vmax=top)
    return buffer.getvalue()


def _checked_array(numpy: Any, image: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    array = image[:, :, 0] if image.ndim == 3 and image.shape[2] == 1 else image
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise InvalidInput(
            f"log_image takes an array of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), "
            f"got {image.shape}"
        )
    if array.dtype.kind == "b":
        return array.astype(numpy.uint8) * 255
    if array.dtype.kind in "iu":
        if array.size and (array.min() < 0 or array.max() > 255):
            raise InvalidInput("an integer image's values must lie in 0-255")
        return array.astype(numpy.uint8)
    if array.dtype.kind == "f":
        if array.size and not (
            numpy.isfinite(array).all() and 0 <= array.min() <= array.max() <= 1
        ):
            raise InvalidInput("a float image's values must lie in 0.0-1.0 (and not be NaN)")
        return array
    raise InvalidInput(f"log_image cannot store an array of dtype {array.dtype}")


def log_image(
    client: Client,
    run_id: str,
    image: Any,
    artifact_file: str | None = None,
    *,
    key: str | None = None,
    step: int | None = None,
    timestamp: int | None = None,
) -> str:
    """Store an image at ``artifact_file``, or under ``images/<key>/`` by step; returns its path.

    With ``key``, each call adds a file ``images/<key>/step_<step>_<timestamp>.png``
    (step 0 and now by default), so a key holds an image series.

    Raises:
        InvalidInput: both or neither of ``artifact_file`` and ``key``, an
            unknown image format, or an image that cannot be encoded.

    Example:
        >>> log_image(client, run_id, array, key="sample", step=3)  # doctest: +SKIP
        'images/sample/step_3_1733356800000.png'
    """
    if (artifact_file is None) == (key is None):
        raise InvalidInput("log_image takes exactly one of artifact_file or key")
    if key is not None:
        name = validate_key(key, "image")
        step_ = 0 if step is None else metric_step(step)
        ts = time.time_ns() // 1_000_000 if timestamp is None else int(timestamp)
        artifact_file = f"{IMAGES_FOLDER}/{name}/step_{step_}_{ts}.png"
    assert artifact_file is not None
    suffix = PurePosixPath(artifact_file).suffix.lstrip(".").lower() or "png"
    if suffix not in _IMAGE_FORMATS:
        raise InvalidInput(
            f"log_image cannot write {artifact_file!r}: use one of "
            + ", ".join(f".{s}" for s in _IMAGE_FORMATS)
        )
    path = check_artifact_path(artifact_file)
    data = image_bytes(image, suffix)
    client.record_artifacts(run_id, [(path, client.content.put_bytes(data), len(data))])
    return path
