from __future__ import annotations

import json

from mloop.importing.mlflow.summary import KINDS, ImportSummary, byte_size


def test_the_summary_as_plain_values() -> None:
    summary = ImportSummary(source="mlruns", dry_run=True)
    summary.metric_points.brought = 7
    summary.skip("deleted run", "abc")
    summary.skip("deleted run", "def")
    summary.skip("run mloop cannot store", "0a1b", "its name is too long")
    summary.note("param shown masked", "0a1b: api_key")
    plain = json.loads(json.dumps(summary.to_dict()))
    assert plain["dry_run"] is True
    assert plain["metric_points"] == {"brought": 7, "already": 0}
    assert plain["skipped"] == [
        {"reason": "deleted run", "item": "abc", "detail": ""},
        {"reason": "deleted run", "item": "def", "detail": ""},
        {"reason": "run mloop cannot store", "item": "0a1b", "detail": "its name is too long"},
    ]
    assert plain["notes"] == [{"note": "param shown masked", "item": "0a1b: api_key"}]
    assert [k for k in plain if k in KINDS] == list(KINDS)


def test_sizes_have_units() -> None:
    assert byte_size(999) == "999 bytes"
    assert byte_size(1500) == "1.5 kB (1500 bytes)"
    assert byte_size(2_000_000_000_000_000) == "2000.0 TB (2000000000000000 bytes)"
