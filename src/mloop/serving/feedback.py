"""The body of ``POST /feedback``: the ground truth of earlier requests, by request id.

One label, ``{"request_id": "…", "label": 1}``, or several,
``{"feedback": [{"request_id": "…", "label": 1}, …]}``. A label is any JSON
value (a class, a number, a list for a multi-row request).

Example:
    >>> decode_feedback(b'{"request_id": "r1", "label": 1}')
    [('r1', 1)]
    >>> decode_feedback(b'{"feedback": [{"request_id": "a", "label": "yes"}]}')
    [('a', 'yes')]
"""

from __future__ import annotations

import json
from typing import Any

from mloop.errors import InvalidInput

MAX_LABELS = 100_000

_USAGE = (
    'send {"request_id": "...", "label": ...} or '
    '{"feedback": [{"request_id": "...", "label": ...}, ...]}'
)


def _one(item: Any, where: str) -> tuple[str, Any]:
    if not isinstance(item, dict) or set(item) != {"request_id", "label"}:
        raise InvalidInput(f"{where} must have exactly request_id and label: {_USAGE}")
    request_id = item["request_id"]
    if not isinstance(request_id, str) or not 0 < len(request_id) <= 128:
        raise InvalidInput(
            f"{where}: request_id must be the x-request-id of an answer (1 to 128 characters), "
            f"got {request_id!r}"
        )
    return request_id, item["label"]


def decode_feedback(body: bytes) -> list[tuple[str, Any]]:
    """The (request id, label) pairs of a ``/feedback`` body.

    Raises:
        InvalidInput: not JSON, or not one of the two shapes.
    """
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InvalidInput(f"the body is not JSON ({err}): {_USAGE}") from None
    if isinstance(value, dict) and "feedback" in value:
        items = value["feedback"]
        if set(value) != {"feedback"} or not isinstance(items, list) or not items:
            raise InvalidInput(f"feedback must be a non-empty list of labels: {_USAGE}")
        if len(items) > MAX_LABELS:
            raise InvalidInput(f"{len(items):,} labels in one body; send at most {MAX_LABELS:,}")
        return [_one(item, f"feedback[{index}]") for index, item in enumerate(items)]
    return [_one(value, "the body")]
