from __future__ import annotations

import pytest

from mloop.errors import InvalidInput
from mloop.store.names import check_storable, validate_name


def test_names() -> None:
    assert validate_name("ok name", "run", 10) == "ok name"
    for bad in ("", "   ", None, "a\x00b", "x" * 11, "a\nb"):
        with pytest.raises(InvalidInput):
            validate_name(bad, "run", 10)


def test_storable_text() -> None:
    assert check_storable("tag value", "ünïcode") == "ünïcode"
    with pytest.raises(InvalidInput, match="NUL"):
        check_storable("tag value", "a\x00b")
    with pytest.raises(InvalidInput, match="not valid Unicode"):
        check_storable("tag value", "bad \udcff byte")
