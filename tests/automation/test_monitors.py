"""Monitors on a live deployment: drift, quality and performance fire alerts and resolve them."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pandas as pd
import pytest

from mloop import data
from mloop.automation import monitors
from mloop.data.expectations import Expectation, ExpectationSuite
from mloop.errors import AlreadyExists, InvalidInput, NotFound
from tests.automation.conftest import Credit, applicants
from tests.http_receiver import receiving


def test_drift_fires_an_alert_to_a_webhook_and_it_resolves(
    credit: Credit, monkeypatch: pytest.MonkeyPatch
) -> None:
    with receiving() as hook:
        monkeypatch.setenv("HOOK_URL", f"{hook.url}/alerts")
        monitors.create_monitor(
            "credit-drift",
            "deployment:credit-api",
            "credit@train",
            schedule="2s",
            checks=[{"kind": "drift"}, {"kind": "quality"}, {"kind": "performance"}],
            rules=["drift_share > 0.3", "accuracy < 0.6"],
            notifiers=[{"kind": "webhook", "url": "${HOOK_URL}"}],
        )
        shifted = applicants(300, shift=25, seed=1)
        ids = credit.send(shifted)
        credit.label(ids, [shifted["default"].iloc[i : i + 10].tolist() for i in range(0, 300, 10)])
        credit.flushed()
        report = monitors.run_monitor("credit-drift")
        assert report.status == "alerting", report.results
        assert report.model_versions == ["credit/1"]
        metrics = report.results["metrics"]
        assert metrics["rows"] == 300 and metrics["drift_share"] >= 0.5
        assert metrics["drift(income)"] >= 0.1 and metrics["labelled"] == 300
        assert 0 <= metrics["accuracy"] <= 1
        drift = report.results["drift"]
        assert {c["column"]: c["drifted"] for c in drift["columns"]}["income"]
        [(path, _, payload)] = hook.requests
        assert path == "/alerts" and payload["alerts"][0]["state"] == "firing"
        assert payload["alerts"][0]["labels"]["monitor"] == "credit-drift"

        time.sleep(2.2)  # a window with none of the shifted rows
        credit.send(applicants(300, seed=2))
        credit.flushed()
        later = monitors.run_monitor("credit-drift")
        assert later.status == "ok", later.results["metrics"]
        [resolved] = hook.requests[-1][2]["alerts"]
        assert resolved["state"] == "resolved"
        assert resolved["summary"].startswith("now drift_share = ")
        assert resolved["values"]["drift_share"] <= 0.3
        assert resolved["summary"].endswith("<= 0.3")
    reports = monitors.list_reports("credit-drift")
    assert [r.status for r in reports] == ["ok", "alerting"]
    assert monitors.get_monitor("credit-drift").next_run_time is not None


def test_a_window_without_traffic_is_no_data(credit: Credit) -> None:
    monitors.create_monitor("quiet", "deployment:credit-api", "credit@train", schedule="1m")
    report = monitors.run_monitor("quiet")
    assert report.status == "no-data" and report.results["metrics"] == {"rows": 0.0}


def test_a_failed_delivery_is_sent_again_at_the_next_run(
    credit: Credit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_URL", "http://127.0.0.1:9/unreachable")
    monitors.create_monitor(
        "drift",
        "deployment:credit-api",
        "credit@train",
        schedule="1h",
        rules=["drift_share > 0.3"],
        notifiers=[{"kind": "webhook", "url": "${HOOK_URL}"}],
    )
    credit.send(applicants(200, shift=25, seed=3))
    credit.flushed()
    first = monitors.run_monitor("drift")
    assert first.status == "alerting"
    assert first.results["notifications"][0]["delivered"] is False
    [missed] = first.alerts
    with receiving() as hook:
        monkeypatch.setenv("HOOK_URL", hook.url)
        second = monitors.run_monitor("drift")
        [got] = hook.requests[0][2]["alerts"]
        assert got["state"] == "firing" and got["started_at"] == missed["started_at"]
        assert second.alerts == []  # the alert was already sent (to no one): not again
        monitors.run_monitor("drift")
        assert len(hook.requests) == 1  # delivered once, not again


def test_a_window_without_data_keeps_an_alert_firing(credit: Credit) -> None:
    monitors.create_monitor(
        "gap", "deployment:credit-api", "credit@train", schedule="2s", rules=["drift_share > 0.3"]
    )
    credit.send(applicants(200, shift=25, seed=8))
    credit.flushed()
    assert monitors.run_monitor("gap").status == "alerting"
    time.sleep(2.2)  # traffic stops: the next window is empty
    quiet = monitors.run_monitor("gap")
    assert quiet.status == "alerting" and quiet.alerts == []  # not resolved by silence


def test_refused_requests_are_left_out_of_drift_but_not_of_quality(credit: Credit) -> None:
    monitors.create_monitor("mixed", "deployment:credit-api", "credit@train")
    credit.send(applicants(500, seed=4))
    bad = {"inputs": {"income": ["a lot"], "age": [30.0]}}
    refused = httpx.post(f"{credit.url}/invocations", json=bad, timeout=30)
    assert refused.status_code == 400
    credit.sent.add(refused.headers["x-request-id"])  # logged too: waited for
    credit.flushed()
    report = monitors.run_monitor("mixed")
    assert report.status == "ok", report.error
    metrics = report.results["metrics"]
    assert metrics["rows"] == 501 and metrics["drift_share"] == 0.0
    assert metrics["type_changed(income)"] == 1.0  # quality sees the text that came in


def test_a_run_that_cannot_check_alerts_and_recovers(
    credit: Credit, monkeypatch: pytest.MonkeyPatch
) -> None:
    with receiving() as hook:
        monkeypatch.setenv("HOOK_URL", hook.url)
        monitors.create_monitor(
            "fragile",
            "deployment:credit-api",
            "credit@train",
            notifiers=[{"kind": "webhook", "url": "${HOOK_URL}"}],
        )
        credit.send(applicants(50, seed=7))
        credit.flushed()
        readable = monitors.read_window
        monkeypatch.setattr(monitors, "read_window", _unreadable)
        report = monitors.run_monitor("fragile")
        assert report.status == "failed" and report.error == "the prediction log is unreadable"
        [alert] = hook.requests[-1][2]["alerts"]
        assert (alert["name"], alert["state"], alert["severity"]) == (
            "monitor_failed",
            "firing",
            "critical",
        )
        assert monitors.get_monitor("fragile").last_run_time is not None
        monkeypatch.setattr(monitors, "read_window", readable)
        assert monitors.run_monitor("fragile").status == "ok"
        [back] = hook.requests[-1][2]["alerts"]
        assert (back["name"], back["state"]) == ("monitor_failed", "resolved")


def _unreadable(*args: object) -> None:
    raise InvalidInput("the prediction log is unreadable")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"target": "credit-api"}, InvalidInput, "must be 'deployment:NAME' or 'dataset:NAME'"),
        ({"target": "deployment:nope"}, NotFound, "nope"),
        ({"reference": "credit@nope"}, NotFound, "nope"),
        ({"schedule": "every hour"}, InvalidInput, "schedule 'every hour'"),
        ({"window": "1 hour"}, InvalidInput, "window '1 hour' is not an interval"),
        ({"checks": [{"kind": "drfit"}]}, InvalidInput, "unknown check kind 'drfit'"),
        ({"checks": [{"kind": "drift", "shares": 0.3}]}, InvalidInput, "has no option 'shares'"),
        ({"rules": ["drift_share >"]}, InvalidInput, "alert rule"),
        ({"rules": ["acuracy < 0.8"]}, InvalidInput, "reads 'acuracy', which no check"),
        (
            {"rules": ["psi(salary) > 0.2"]},
            InvalidInput,
            "the reference has no column 'salary'; it has income, age, default",
        ),
        ({"rules": "drift_share > 0.3"}, InvalidInput, "must be a list of rule texts"),
        (
            {"notifiers": [{"kind": "webhook", "url": "https://user:pw@hooks.example/x"}]},
            InvalidInput,
            "secret",
        ),
        ({"notifiers": [{"kind": "pager"}]}, InvalidInput, "unknown mloop.notifiers plugin"),
        ({"notifiers": [{"kind": "webhook", "url": "$HOOK"}]}, InvalidInput, '"\\$\\{NAME\\}"'),
        ({"notifiers": [{"kind": "webhook", "url": "ftp://x/y"}]}, InvalidInput, "not http"),
        ({"rules": ["rows > 1", "rows>1"]}, InvalidInput, "are the same rule"),
        ({"reference": "credit"}, InvalidInput, "name a version of 'credit'"),
        ({"target": "dataset:nope"}, NotFound, "nope"),
        ({"schedule": "0 0 31 2 *"}, InvalidInput, "never"),
        ({"checks": [{"kind": "drift", "method": "ks", "threshold": 5}]}, InvalidInput, "p-value"),
        ({"checks": [{"kind": "drift", "share": 2}]}, InvalidInput, "share must be in"),
        ({"checks": [{"kind": "drift", "columns": ["salary"]}]}, InvalidInput, "'salary'"),
    ],
)
def test_bad_monitors_are_refused_before_anything_is_stored(
    credit: Credit, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    settings: dict[str, object] = {
        "target": "deployment:credit-api",
        "reference": "credit@train",
        **kwargs,
    }
    target, reference = settings.pop("target"), settings.pop("reference")
    with pytest.raises(error, match=message):
        monitors.create_monitor("bad", str(target), str(reference), **settings)  # type: ignore[arg-type]
    assert monitors.list_monitors() == []


def test_names_are_unique_and_pausing_stops_the_schedule(credit: Credit) -> None:
    monitors.create_monitor("m", "deployment:credit-api", "credit@train")
    with pytest.raises(AlreadyExists):
        monitors.create_monitor("m", "deployment:credit-api", "credit@train")
    now = datetime.now(UTC)
    assert monitors.due(monitors.get_monitor("m"), now)
    assert not monitors.due(monitors.pause_monitor("m"), now)
    assert monitors.due(monitors.pause_monitor("m", False), now + timedelta(seconds=1))
    monitors.delete_monitor("m")
    with pytest.raises(NotFound):
        monitors.get_monitor("m")


def test_prediction_drift_and_estimated_performance(credit: Credit) -> None:
    monitors.create_monitor(
        "outputs",
        "deployment:credit-api",
        "credit@train",
        checks=[
            {"kind": "drift", "prediction": "default"},
            {"kind": "estimated_performance", "target": "default"},
            {"kind": "performance"},
        ],
        rules=["estimated_accuracy < 0.5", "prediction_drift > 0.1"],
    )
    window = applicants(400, seed=5)
    ids = credit.send(window)
    credit.label(ids, [window["default"].iloc[i : i + 10].tolist() for i in range(0, 400, 10)])
    credit.flushed()
    report = monitors.run_monitor("outputs")
    assert report.status in ("ok", "alerting"), report.error
    metrics = report.results["metrics"]
    assert "prediction_drift" in metrics
    low, high = metrics["estimated_accuracy_lower"], metrics["estimated_accuracy_upper"]
    assert low <= metrics["estimated_accuracy"] <= high
    # The estimate, made without labels, is near the accuracy the labels give.
    assert abs(metrics["estimated_accuracy"] - metrics["accuracy"]) < 0.08
    judged = report.results["estimate_against_realised"]["accuracy"]
    assert judged["realised"] == metrics["accuracy"]
    assert judged["inside"] == (judged["lower"] <= judged["realised"] <= judged["upper"])
    [version] = report.results["estimated_performance"]["versions"]
    assert version == "credit/1"
    digest = next(iter(monitors.get_monitor("outputs").state["cbpe"]))
    assert len(digest) == 64  # one calibration per package, kept for the next runs


def test_estimated_performance_needs_a_deployment(credit: Credit) -> None:
    with pytest.raises(InvalidInput, match="performance checks need a deployment"):
        monitors.create_monitor(
            "x",
            "dataset:credit",
            "credit@train",
            checks=[{"kind": "estimated_performance", "target": "default"}],
        )
    with pytest.raises(InvalidInput, match="needs 'target'"):
        monitors.create_monitor(
            "x", "deployment:credit-api", "credit@train", checks=[{"kind": "estimated_performance"}]
        )


def test_the_drift_command_reads_a_deployments_traffic(credit: Credit) -> None:
    from tests.cli.conftest import invoke

    code, _, err = invoke("monitor", "drift", "credit@train", "deployment:credit-api")
    assert code == 2 and "answered no requests with table inputs in the last 1h" in err
    credit.send(applicants(200, shift=25, seed=6))
    credit.flushed()
    code, out, err = invoke(
        "monitor", "drift", "credit@train", "deployment:credit-api", "--window", "10m", "--json"
    )
    assert code == 0, err
    assert "income" in json.loads(out)["columns"][0]["column"]
    code, _, err = invoke(
        "monitor", "drift", "credit@train", "deployment:credit-api", "--window", "soon"
    )
    assert code == 2 and "--window 'soon' is not an interval" in err


def test_an_expectation_suite_and_a_labels_table(credit: Credit, tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    ExpectationSuite("live", [Expectation("between", column="income", min=0, max=80)]).to_yaml(
        suite
    )
    window = applicants(300, shift=25, seed=13)
    ids = credit.send(window)
    labels = pd.DataFrame(
        {
            "request_id": ids,
            "label": [window["default"].iloc[i : i + 10].tolist() for i in range(0, 300, 10)],
        }
    )
    folder = tmp_path / "labels"
    folder.mkdir()
    labels.to_json(folder / "labels.jsonl", orient="records", lines=True)
    data.add(folder, "credit-labels")
    monitors.create_monitor(
        "with-sources",
        "deployment:credit-api",
        "credit@train",
        checks=[
            {"kind": "quality", "suite": str(suite)},
            {"kind": "performance", "labels": "credit-labels@latest"},
        ],
        rules=["failed_expectations > 0"],
    )
    suite.unlink()  # the suite is kept with the monitor, not read from the file again
    credit.flushed()
    report = monitors.run_monitor("with-sources")
    metrics = report.results["metrics"]
    assert report.status == "alerting" and metrics["failed_expectations"] == 1
    assert metrics["labelled"] == 300  # from the labels table: no feedback was sent
    with pytest.raises(InvalidInput, match="labels must name a dataset version"):
        monitors.create_monitor(
            "x", "deployment:credit-api", "credit@train",
            checks=[{"kind": "performance", "labels": "credit-labels"}],
        )  # fmt: skip


def test_a_watched_deployment_is_not_removed_from_under_its_monitor(credit: Credit) -> None:
    import mloop.serving
    from mloop.errors import Conflict

    monitors.create_monitor("guard", "deployment:credit-api", "credit@train")
    with pytest.raises(Conflict, match=r"in use by monitor guard \(mloop monitor rm guard\)"):
        mloop.serving.delete_deployment("credit-api")
    monitors.delete_monitor("guard")
    assert mloop.serving.delete_deployment("credit-api").action == "delete"
