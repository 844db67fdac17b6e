from __future__ import annotations

import json

from mloop.importing.mlflow.summary import KINDS, ImportSummary, byte_size


def test_the_summary_as_plain_values() -> None:
    summary = ImportSummary(source="mlruns", dry_run=True)
    summary.metric_points.brought = 7
    summary.skip("deleted run", "abc")
    summary.skip("deleted run", "def")
    plain = json.loads(json.dumps(summary.to_dict()))
    assert plain["dry_run"] is True
    assert plain["metric_points"] == {"brought": 7, "already": 0}
    assert plain["skipped"] == {"deleted run": ["abc", "def"]}
    assert [k for k in plain if k in KINDS] == list(KINDS)


def test_sizes_have_units() -> None:
    assert byte_size(999) == "999 bytes"
    assert byte_size(1500) == "1.5 kB (1500 bytes)"
    assert byte_size(2_000_000_000_000_000) == "2000.0 TB (2000000000000000 bytes)"
