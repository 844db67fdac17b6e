from __future__ import annotations

import pytest

from mloop.data.refs import check_tag, parse_ref
from mloop.entities import DatasetRef
from mloop.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("credit", DatasetRef("credit")),
        ("credit@latest", DatasetRef("credit")),
        ("credit@12", DatasetRef("credit", version=12)),
        ("credit-v2.raw@prod_1", DatasetRef("credit-v2.raw", tag="prod_1")),
    ],
)
def test_parse(text: str, ref: DatasetRef) -> None:
    assert parse_ref(text) == ref


@pytest.mark.parametrize("text", ["", "@1", "a b", "credit@0", "credit@", "credit@1x", "-x", 3])
def test_bad_refs(text: object) -> None:
    with pytest.raises(InvalidInput):
        parse_ref(text)


def test_latest_is_reserved() -> None:
    with pytest.raises(InvalidInput, match="reserved"):
        check_tag("latest")
