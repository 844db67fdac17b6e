"""The body of POST /feedback: one label or many, and clear errors for anything else."""

from __future__ import annotations

import pytest

from mloop.errors import InvalidInput
from mloop.serving.feedback import decode_feedback


def test_one_label_or_a_list() -> None:
    assert decode_feedback(b'{"request_id": "a", "label": [1, 0]}') == [("a", [1, 0])]
    many = b'{"feedback": [{"request_id": "a", "label": 1}, {"request_id": "b", "label": null}]}'
    assert decode_feedback(many) == [("a", 1), ("b", None)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "not JSON"),
        (b"[]", "exactly request_id and label"),
        (b'{"request_id": "a"}', "exactly request_id and label"),
        (b'{"request_id": "", "label": 1}', "1 to 128 characters"),
        (b'{"feedback": {}}', "non-empty list"),
        (b'{"feedback": [], "x": 1}', "non-empty list"),
        (b'{"feedback": [{"request_id": "a", "label": 1}, 3]}', r"feedback\[1\]"),
    ],
)
def test_malformed_bodies_say_what_is_wrong(body: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        decode_feedback(body)
