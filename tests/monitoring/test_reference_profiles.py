"""A dataset version's drift profile: computed once, stored, read back, kept by gc."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mloop import data
from mloop.data.refs import parse_ref
from mloop.errors import IntegrityError, InvalidInput, NotFound
from mloop.monitoring import reference_profiles
from mloop.monitoring.reference_profiles import KIND, reference_profile
from mloop.monitoring.table_drift import drift
from mloop.tracking import fluent
from mloop.tracking.gc import collect_garbage


def add_table(folder: Path, name: str, frame: pd.DataFrame) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / "part.parquet")
    data.add(folder, name)


def stored_digest(ref: str) -> str | None:
    return fluent.current_client().context.stores.datasets.find_profile(parse_ref(ref), KIND)


@pytest.fixture
def reference(home: Path, tmp_path: Path) -> pd.DataFrame:
    reference_profiles._recent.clear()
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"age": rng.normal(40, 9, 2000), "plan": rng.choice(["a", "b"], 2000)})
    add_table(tmp_path / "train", "credit", frame)
    return frame


def test_the_profile_is_computed_once_then_read_from_the_store(
    reference: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stored_digest("credit@1") is None
    first = reference_profile("credit@latest")
    assert first.rows == 2000 and stored_digest("credit@1") is not None
    reference_profiles._recent.clear()  # as in a new process

    def no_rows(self: object) -> None:
        raise AssertionError("the rows were read again")

    monkeypatch.setattr(data.Dataset, "to_pandas", no_rows)
    again = reference_profile("credit@1")
    assert again.column("age").values.tolist() == first.column("age").values.tolist()


def test_drift_against_the_stored_profile_is_drift_against_the_rows(
    reference: pd.DataFrame,
) -> None:
    current = reference.assign(age=reference["age"] + 5).iloc[:500]
    stored = drift(reference_profile("credit@1"), current)
    assert stored == drift(reference, current)
    assert stored.column("age").drifted


def test_gc_keeps_the_profile_while_the_version_exists(reference: pd.DataFrame) -> None:
    reference_profile("credit@1")
    digest = stored_digest("credit@1")
    assert digest is not None
    context = fluent.current_client().context
    collect_garbage(context.stores, context.content, grace_seconds=0)
    assert context.content.exists(digest)
    data.remove("credit@1")  # nothing is referenced any more: gc asks for force
    collect_garbage(context.stores, context.content, grace_seconds=0, force=True)
    assert not context.content.exists(digest)


def test_a_damaged_stored_profile_is_refused(reference: pd.DataFrame) -> None:
    reference_profile("credit@1")
    reference_profiles._recent.clear()
    digest = stored_digest("credit@1")
    assert digest is not None
    path = Path(fluent.current_client().context.content.location(digest))
    path.chmod(0o644)
    path.write_bytes(b"damaged")
    with pytest.raises(IntegrityError):
        reference_profile("credit@1")


def test_unknown_versions_and_untabular_data_are_clear_errors(home: Path, tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        reference_profile("nothing@1")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "readme.txt").write_text("no table here")
    data.add(folder, "docs")
    with pytest.raises(InvalidInput):
        reference_profile("docs@1")
    assert stored_digest("docs@1") is None


def test_columns_drift_cannot_compare_are_noted_not_fatal(home: Path, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"when": pd.to_datetime(["2026-01-01", "2026-01-02"]), "amount": [1.0, 2.0]}
    )
    add_table(tmp_path / "dates", "dates", frame)
    stored = reference_profile("dates@1")
    assert list(stored.columns) == ["amount"] and "datetime64" in stored.skipped["when"]
    assert drift(stored, frame, ["amount"]).column("amount").statistic == 0.0
    with pytest.raises(InvalidInput, match="column 'when' is not in the reference's profile"):
        drift(stored, frame, ["when"])
    reference_profiles._recent.clear()
    assert "when" in reference_profile("dates@1").skipped  # kept with the stored profile
