"""mloop monitor create|ls|show|run|report|pause|resume|rm, as a user types them."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mloop import data
from tests.cli.conftest import invoke


@pytest.fixture
def events(home: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "events"
    folder.mkdir()
    frame = pd.DataFrame({"amount": [1.0, 2.0, 3.0] * 20, "kind": ["a", "b", "c"] * 20})
    frame.to_csv(folder / "events.csv", index=False)
    data.add(folder, "events")
    return folder


def test_the_life_of_a_monitor(events: Path, tmp_path: Path) -> None:
    code, out, err = invoke(
        "monitor", "create", "ev", "--target", "dataset:events", "--reference", "events@1",
        "--schedule", "1h", "--check", "drift", "--check", '{"kind": "quality"}',
        "--rule", "drift_share > 0.3", "--notify", '{"kind": "log"}',
    )  # fmt: skip
    assert code == 0, err
    assert "created monitor ev: dataset:events against events@1, every 1h over 1h" in out
    code, out, _ = invoke("monitor", "ls")
    assert code == 0 and "ev" in out and "now" in out
    code, out, _ = invoke("monitor", "run", "ev")  # the version added this hour is the window
    assert code == 0 and "monitor ev: ok" in out and "(dataset events@1; 60 rows)" in out
    assert "drift_share = 0" in out
    code, out, _ = invoke("monitor", "show", "ev")
    assert code == 0 and "rule: drift_share > 0.3" in out and " ok " in out
    code, out, _ = invoke("monitor", "report", "ev", "--json")
    [report] = json.loads(out)
    assert report["status"] == "ok" and report["results"]["metrics"]["rows"] == 60
    page = tmp_path / "ev.html"
    code, out, err = invoke("monitor", "report", "ev", "--html", str(page))
    assert code == 0, err
    assert "amount" in page.read_text() and f"wrote the HTML report to {page}" in out
    code, out, _ = invoke("monitor", "report", "ev", "--id", report["report_id"][:8])
    assert code == 0 and "monitor ev: ok" in out
    code, _, err = invoke("monitor", "report", "ev", "--id", "abc")
    assert code == 2 and "at least 6 characters" in err
    assert invoke("monitor", "pause", "ev")[1].strip() == "paused monitor ev"
    assert "(paused)" in invoke("monitor", "ls")[1]
    assert invoke("monitor", "resume", "ev")[0] == 0
    assert invoke("monitor", "rm", "ev")[1].strip() == "deleted monitor ev"
    code, _, err = invoke("monitor", "show", "ev")
    assert code != 0 and "ev" in err


def test_a_monitor_from_a_file(events: Path, tmp_path: Path) -> None:
    spec = tmp_path / "monitor.yaml"
    spec.write_text(
        "name: from-file\ntarget: dataset:events\nreference: events@1\nschedule: 0 3 * * *\n"
        "checks:\n  - kind: drift\n    share: 0.3\nrules:\n  - drift(amount) > 0.2\n"
    )
    code, out, err = invoke("monitor", "create", "--file", str(spec), "--json")
    assert code == 0, err
    made = json.loads(out)
    assert (made["name"], made["window"], made["rules"]) == (
        "from-file",
        "1d",
        ["drift(amount) > 0.2"],
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "dataset:events"], "a monitor needs a reference"),
        (["--reference", "events@1"], "a monitor needs a target"),
        (["--target", "dataset:events", "--reference", "events@1", "--notify", "{"], "is not JSON"),
        (
            ["--target", "dataset:events", "--reference", "events@1", "--check", "[1]"],
            "unknown check kind",
        ),
        (["--target", "dataset:events", "--reference", "events@9"], "events"),
        (
            ["--target", "dataset:events", "--reference", "events@1", "--rule", "rows <"],
            "alert rule",
        ),
    ],
)
def test_mistakes_are_clear_errors(events: Path, args: list[str], message: str) -> None:
    code, _, err = invoke("monitor", "create", "bad", *args)
    assert code >= 2 and message in err, err
    assert invoke("monitor", "ls", "--json")[1].strip() == "[]"


def test_file_mistakes(events: Path, tmp_path: Path) -> None:
    code, _, err = invoke("monitor", "create", "--file", str(tmp_path / "nope.yaml"))
    assert code == 2 and "no monitor file" in err
    spec = tmp_path / "typo.yaml"
    spec.write_text("name: x\ntarget: dataset:events\nreference: events@1\nrule: [a]\n")
    code, _, err = invoke("monitor", "create", "--file", str(spec))
    assert code == 2 and "unknown key 'rule'" in err


def test_unknown_monitors_and_reports(events: Path) -> None:
    code, _, err = invoke("monitor", "run", "ghost")
    assert code != 0 and "ghost" in err
    invoke("monitor", "create", "ev", "--target", "dataset:events", "--reference", "events@1")
    code, _, err = invoke("monitor", "report", "ev", "--limit", "0")
    assert code == 2 and "--limit must be at least 1" in err
    code, _, err = invoke("monitor", "report", "ev", "--html", "/no/such/dir/r.html")
    assert code == 2 and "no folder" in err


def test_the_agent_runs_once(events: Path) -> None:
    invoke("monitor", "create", "ev", "--target", "dataset:events", "--reference", "events@1")
    code, out, err = invoke("agent", "--once")
    assert code == 0, err
    assert "monitor ev: ok (60 rows to" in out
    code, out, _ = invoke("agent", "--once")
    assert code == 0 and out == ""  # planned an hour from now
    code, _, err = invoke("agent", "--tick", "0")
    assert code == 2 and "--tick must be positive" in err
