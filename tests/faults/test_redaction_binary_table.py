"""A binary file named like a table is reported with a short, escaped excerpt (issue 10, item 21)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import mloop
from mloop.errors import InvalidInput
from tests.cli.conftest import run_mloop

# Control characters a terminal acts on (escape sequences, bell, NUL), except newline.
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")

TERMINAL_ATTACK = b"\x1b[2J\x1b]0;owned\x07\x1b[31m"
CONTENTS = {
    # an archive renamed .csv: NUL bytes in its first kilobytes
    "zip": b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 64 + TERMINAL_ATTACK,
    # no NUL byte at all: escape sequences and stray bytes the CSV reader quotes in its error
    "no_nul": b"a,b\n" + b"1,2\n" + TERMINAL_ATTACK + b",\xff\xfe" * 400 + b"\n1\n" + b"x" * 5000,
}


@pytest.fixture(params=sorted(CONTENTS))
def folder(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    (root / "good.csv").write_text("a,b\n1,2\n")
    (root / "bad.csv").write_bytes(CONTENTS[request.param])
    return root


def test_data_add_warns_with_an_escaped_excerpt(home: Path, folder: Path) -> None:
    result = run_mloop("data", "add", str(folder), "--name", "b")
    assert result.returncode == 0, result.stderr
    warning = result.stderr.strip()
    assert "bad.csv" in warning, warning
    assert not CONTROL.search(warning), repr(warning)
    assert "\x1b" not in result.stdout
    assert len(warning) < 600, warning
    assert len(warning.splitlines()) <= 2


def test_reading_it_raises_a_short_printable_error(home: Path, folder: Path) -> None:
    mloop.data.add(folder, "b")
    with pytest.raises(InvalidInput) as caught:
        mloop.data.get("b@1").to_pandas()
    message = str(caught.value)
    assert message.startswith("bad.csv is not a")
    assert not CONTROL.search(message), repr(message)
    assert len(message) < 500


def test_binary_start_is_named(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "model.csv"
    path.write_bytes(CONTENTS["zip"])
    mloop.data.add(path, "m")
    with pytest.raises(InvalidInput) as caught:
        mloop.data.get("m@1").to_pandas()
    assert "binary data (it starts with b'PK\\x03\\x04" in str(caught.value)


@pytest.mark.skipif(os.name != "posix", reason="control characters in file names")
def test_hostile_file_name_is_escaped(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "evil\x1b[2J.csv"
    path.write_bytes(CONTENTS["zip"])
    mloop.data.add(path, "n")
    with pytest.raises(InvalidInput) as caught:
        mloop.data.get("n@1").to_pandas()
    assert "\x1b" not in str(caught.value)
    assert "evil\\x1b[2J.csv" in str(caught.value)
