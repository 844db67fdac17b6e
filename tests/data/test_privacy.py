from __future__ import annotations

import hashlib
import hmac
import warnings
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet
import pytest

import mloop
from mloop.data.privacy import detect_pii, luhn_valid
from mloop.errors import InvalidInput, MloopWarning
from tests.cli.conftest import invoke

PEOPLE = (
    "name,email,phone,ip,card,ssn,score\n"
    "ann,ann@x.io,+33 6 12 34 56 78,10.0.0.1,4111 1111 1111 1111,123-45-6789,1\n"
    "bob,bob@y.org,(555) 123-4567,192.168.1.20,5500 0000 0000 0004,987-65-4321,2\n"
)


def test_detection() -> None:
    table = pa.table(
        {
            "email": ["a@b.io", "c@d.org", None],
            "phone": ["+1 555 123 4567", "555-987-6543", "0612345678"],
            "ip": ["10.0.0.1", "192.168.0.254", "::1:2:3"],
            "card": ["4111111111111111", "5500 0000 0000 0004", "4012888888881881"],
            "ssn": ["123-45-6789", "987-65-4321", "111-22-3333"],
            "city": ["paris", "lyon", "nice"],
            "n": [1, 2, 3],
        }
    )
    assert detect_pii(table) == {
        "email": "email",
        "phone": "phone",
        "ip": "ip",
        "card": "card",
        "ssn": "national_id",
    }
    assert not luhn_valid("4111 1111 1111 1112")
    assert not luhn_valid("12345")


def test_pseudonymized_add_never_stores_raw_values(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOOP_SECRET_KEY", "s3cret")
    (tmp_path / "people.csv").write_text(PEOPLE)
    found = mloop.data.detect_pii(pa_csv.read_csv(tmp_path / "people.csv"))
    assert found == {
        "email": "email",
        "phone": "phone",
        "ip": "ip",
        "card": "card",
        "ssn": "national_id",
    }
    version = mloop.data.add(tmp_path / "people.csv", name="people", pseudonymize=list(found))
    frame = version.to_pandas()
    expected = hmac.new(b"s3cret", b"ann@x.io", hashlib.sha256).hexdigest()[:32]
    assert frame["email"][0] == expected  # keyed hash: stable, so joins still work
    assert frame["name"].tolist() == ["ann", "bob"]
    stored = b"".join(p.read_bytes() for p in (home / "artifacts").rglob("*") if p.is_file())
    for raw in (b"ann@x.io", b"4111 1111 1111 1111", b"123-45-6789", b"10.0.0.1"):
        assert raw not in stored
    with pytest.warns(MloopWarning, match=r"'phone' \(phone\), 'ip' \(ip\)"):
        masked = mloop.data.add(
            tmp_path / "people.csv", name="masked", pseudonymize=["email"], mask=True
        )
    assert set(masked.to_pandas()["email"]) == {"***"}


def test_bad_pseudonymize_input_stores_nothing(home: Path, tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text(PEOPLE)
    with pytest.raises(InvalidInput, match="no column"):
        mloop.data.add(tmp_path / "people.csv", name="p", pseudonymize=["nope"])
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InvalidInput, match="needs tabular files"):
        mloop.data.add(tmp_path / "notes.txt", name="p", pseudonymize=["email"])
    assert mloop.data.datasets() == []


def test_secret_file_is_created_private(home: Path, tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text(PEOPLE)
    with pytest.warns(MloopWarning):
        mloop.data.add(tmp_path / "people.csv", name="p", pseudonymize=["email"])
    key = home / "secret.key"
    assert key.exists() and key.stat().st_mode & 0o077 == 0


def test_cli(home: Path, tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text(PEOPLE)
    code, _, err = invoke(
        "data",
        "add",
        str(tmp_path / "people.csv"),
        "-n",
        "p",
        "--pseudonymize",
        "email, phone",
        "--mask",
    )
    assert code == 0, err
    assert "warning:" in err and "'ip'" in err  # the column left as it is, on stderr
    assert set(mloop.data.get("p").to_pandas()["phone"]) == {"***"}
    code, _, err = invoke("data", "add", str(tmp_path / "people.csv"), "-n", "q", "--mask")
    assert code == 2


def test_adding_personal_data_as_it_is_warns_naming_the_columns(home: Path, tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text(PEOPLE)
    with pytest.warns(MloopWarning, match="look like personal data") as caught:
        mloop.data.add(tmp_path / "people.csv", name="people")
    message = str(caught[0].message)
    assert "'email' (email), 'phone' (phone), 'ip' (ip), 'card' (card), 'ssn' (national_id)" in (
        message
    )
    assert "pseudonymize=['card', 'email', 'ip', 'phone', 'ssn']" in message
    assert caught[0].filename == __file__
    pa.parquet.write_table(pa_csv.read_csv(tmp_path / "people.csv"), tmp_path / "people.parquet")
    with pytest.warns(MloopWarning, match="'email'"):
        mloop.data.add(tmp_path / "people.parquet", name="people-parquet")
    (tmp_path / "plain.csv").write_text("city,n\nparis,1\nlyon,2\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mloop.data.add(tmp_path / "plain.csv", name="plain")
        mloop.data.add(
            tmp_path / "people.csv",
            name="hidden",
            pseudonymize=["email", "phone", "ip", "card", "ssn"],
        )
