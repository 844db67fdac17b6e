"""The contract every monitor store passes: subclass and provide ``monitor_store_uri``.

``monitor_store_uri`` names a fresh, empty store; the suite opens a store set
on it and uses its ``monitors`` part.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import pytest

from mloop.entities import Monitor, MonitorReport
from mloop.errors import AlreadyExists, InvalidInput, NotFound
from mloop.store.set import StoreSet
from tests.contracts.opening import OpenStores, store_opener

HOUR = 3_600_000


def now() -> int:
    return time.time_ns() // 1_000_000


def drift(**changes: Any) -> Monitor:
    base = Monitor(
        "credit-drift",
        "deployment:credit-api",
        "credit@train",
        "1h",
        "1d",
        checks=[{"kind": "drift", "columns": ["amount", "age"], "threshold": 0.2}],
        rules=["drift.share > 0.3", "psi(amount) > 0.25 for 2 runs"],
        notifiers=[
            {"kind": "slack", "url": "${SLACK_WEBHOOK_URL}"},
            {"kind": "smtp", "host": "mail", "username": "ops", "password": "${SMTP_PASSWORD}"},
            {"kind": "webhook", "url": "https://hooks.example.com/x", "headers": {}},
        ],
    )
    return dataclasses.replace(base, **changes)


def report(start: int, status: str = "ok", **changes: Any) -> MonitorReport:
    base = MonitorReport(
        "credit-drift",
        start,
        start + HOUR,
        status,
        reference="credit@train",
        model_versions=["credit/3", "credit/4"],
        results={"drift": {"share": 0.1, "columns": {"amount": {"psi": 0.04}}}},
        alerts=[],
    )
    return dataclasses.replace(base, **changes)


class MonitorStoreContract:
    """Shared tests; a subclass supplies ``monitor_store_uri``, a fresh store per test."""

    __test__ = False

    @pytest.fixture
    def open_stores(self, monitor_store_uri: str) -> Iterator[OpenStores]:
        yield from store_opener(monitor_store_uri)

    @pytest.fixture
    def stores(self, open_stores: OpenStores) -> StoreSet:
        return open_stores()

    def test_create_get_and_list(self, stores: StoreSet) -> None:
        monitors = stores.monitors
        assert monitors.list_monitors() == []
        before = now()
        created = monitors.create_monitor(drift(created_time=1, updated_time=2))
        assert dataclasses.replace(created, created_time=0, updated_time=0) == drift()
        assert before <= created.created_time == created.updated_time <= now()
        assert (created.project, created.state, created.paused) == ("default", {}, False)
        assert (created.last_run_time, created.next_run_time) == (None, None)
        assert monitors.get_monitor("credit-drift") == created
        monitors.create_monitor(drift(name="a-quality", target="dataset:credit", reference=""))
        assert [m.name for m in monitors.list_monitors()] == ["a-quality", "credit-drift"]

    def test_json_values_round_trip(self, stores: StoreSet) -> None:
        checks = [
            {"kind": "quality", "nested": {"list": [1, 2.5, None, True, "ünïcødé ✓"]}},
            "performance",
            3,
        ]
        state = {"alerts": {"fp1": {"started_at": 5, "labels": {"col": "a\"b'c"}}}, "n": 1.25}
        monitors = stores.monitors
        monitors.create_monitor(drift(checks=checks, state=state))
        got = monitors.get_monitor("credit-drift")
        assert (got.checks, got.state) == (checks, state)

    def test_a_taken_name_is_refused_and_changes_nothing(self, stores: StoreSet) -> None:
        monitors = stores.monitors
        created = monitors.create_monitor(drift())
        with pytest.raises(AlreadyExists, match="'credit-drift'"):
            monitors.create_monitor(drift(target="dataset:other"))
        assert monitors.get_monitor("credit-drift") == created

    @pytest.mark.parametrize("name", ["", " x", "-x", "a/b", "x" * 129, "ünï", "a b", None])
    def test_a_bad_name_is_refused(self, stores: StoreSet, name: object) -> None:
        with pytest.raises(InvalidInput, match="invalid monitor name"):
            stores.monitors.create_monitor(drift(name=name))
        assert stores.monitors.list_monitors() == []

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"target": "credit-api"}, "must read KIND:NAME"),
            ({"target": "deployment:"}, "must read KIND:NAME"),
            ({"schedule": ""}, "monitor schedule must be a non-empty string"),
            ({"window": "  "}, "monitor window must be a non-empty string"),
            ({"reference": None}, "monitor reference must be a string"),
            ({"reference": "x" * 601}, "the limit is 600"),
            ({"rules": [""]}, "monitor rule must be a non-empty string"),
            ({"rules": [1]}, "monitor rule must be a non-empty string"),
            ({"notifiers": ["slack"]}, 'notifier 1 must be a mapping with a "kind"'),
            ({"notifiers": [{"url": "${HOOK}"}]}, 'notifier 1 must be a mapping with a "kind"'),
            ({"checks": [{"at": object()}]}, "monitor checks is not JSON data"),
            ({"state": [1]}, "monitor state must be a mapping"),
            ({"paused": "yes"}, "paused must be True or False"),
            ({"schedule": "1h\x00"}, "NUL"),
        ],
    )
    def test_bad_values_are_refused_before_anything_is_written(
        self, stores: StoreSet, changes: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(InvalidInput, match=message):
            stores.monitors.create_monitor(drift(**changes))
        assert stores.monitors.list_monitors() == []

    @pytest.mark.parametrize(
        ("spec", "where"),
        [
            ({"kind": "smtp", "password": "hunter2"}, "'password'"),
            ({"kind": "x", "api_key": "abc"}, "'api_key'"),
            ({"kind": "x", "AccessToken": "abc"}, "'AccessToken'"),
            ({"kind": "webhook", "headers": {"Authorization": "Bearer abc"}}, "'Authorization'"),
            ({"kind": "webhook", "url": "https://user:pw@hooks.example.com/x"}, "'url'"),
            ({"kind": "webhook", "url": "https://h.example.com/x?token=abc"}, "'url'"),
            ({"kind": "x", "urls": ["https://h/x?sig=abc"]}, "'urls'"),
        ],
    )
    def test_a_secret_in_a_notifier_spec_is_refused_before_anything_is_written(
        self, stores: StoreSet, spec: dict[str, Any], where: str
    ) -> None:
        monitors = stores.monitors
        with pytest.raises(InvalidInput, match=f"notifier 1 .*{where} holds a secret written out"):
            monitors.create_monitor(drift(notifiers=[spec]))
        assert monitors.list_monitors() == []
        monitors.create_monitor(drift())
        with pytest.raises(InvalidInput, match="holds a secret"):
            monitors.update_monitor(drift(notifiers=[{"kind": "log"}, spec]))
        assert monitors.get_monitor("credit-drift").notifiers == drift().notifiers

    def test_secrets_given_as_references_are_kept(self, stores: StoreSet) -> None:
        specs = [
            {"kind": "smtp", "password": "${SMTP_PASSWORD}", "tokenizer": "plain"},
            {"kind": "webhook", "headers": {"Authorization": "Bearer ${HOOK_TOKEN}"}},
            {"kind": "webhook", "url": "${HOOK_URL}?token=${HOOK_TOKEN}"},
        ]
        assert stores.monitors.create_monitor(drift(notifiers=specs)).notifiers == specs

    def test_update_replaces_the_settings_and_keeps_state_and_run_times(
        self, stores: StoreSet
    ) -> None:
        monitors = stores.monitors
        created = monitors.create_monitor(drift())
        ran = monitors.record_run(
            "credit-drift", state={"book": {"a": 1}}, last_run_time=10, next_run_time=20
        )
        assert (ran.state, ran.last_run_time, ran.next_run_time) == ({"book": {"a": 1}}, 10, 20)
        assert ran.updated_time == created.updated_time
        wanted = drift(schedule="0 3 * * 1", window="7d", rules=["drift.share > 0.5"],
                       paused=True, state={"ignored": True})  # fmt: skip
        updated = monitors.update_monitor(wanted)
        assert (updated.schedule, updated.window, updated.rules, updated.paused) == (
            "0 3 * * 1",
            "7d",
            ["drift.share > 0.5"],
            True,
        )
        assert (updated.state, updated.last_run_time, updated.next_run_time) == (ran.state, 10, 20)
        assert updated.created_time == created.created_time <= updated.updated_time
        assert monitors.get_monitor("credit-drift") == updated

    def test_record_run_refuses_a_state_that_is_not_a_json_mapping(self, stores: StoreSet) -> None:
        monitors = stores.monitors
        created = monitors.create_monitor(drift())
        with pytest.raises(InvalidInput, match="monitor state must be a mapping"):
            monitors.record_run("credit-drift", state=[], last_run_time=1, next_run_time=2)  # type: ignore[arg-type]
        with pytest.raises(InvalidInput, match="monitor state is not JSON data"):
            monitors.record_run("credit-drift", state={"x": {1, 2}}, last_run_time=1,
                                next_run_time=2)  # fmt: skip
        with pytest.raises(InvalidInput, match="next run time must be milliseconds"):
            monitors.record_run("credit-drift", state={}, last_run_time=1, next_run_time="2")  # type: ignore[arg-type]
        assert monitors.get_monitor("credit-drift") == created

    def test_due_monitors(self, stores: StoreSet) -> None:
        monitors = stores.monitors
        for name in ("new", "due", "later", "paused"):
            monitors.create_monitor(drift(name=name, paused=name == "paused"))
        monitors.record_run("due", state={}, last_run_time=0, next_run_time=100)
        monitors.record_run("later", state={}, last_run_time=0, next_run_time=101)
        monitors.record_run("paused", state={}, last_run_time=0, next_run_time=1)
        assert [m.name for m in monitors.due_monitors(100)] == ["due", "new"]
        assert [m.name for m in monitors.due_monitors(101)] == ["due", "later", "new"]

    def test_reports_newest_first_with_a_limit_and_a_time_range(self, stores: StoreSet) -> None:
        monitors = stores.monitors
        monitors.create_monitor(drift())
        before = now()
        added = [monitors.add_report(report(i * HOUR)) for i in (0, 2, 1, 3)]
        assert len({r.report_id for r in added}) == 4
        assert all(before <= r.created_time <= now() for r in added)
        assert added[0] == dataclasses.replace(
            report(0), report_id=added[0].report_id, created_time=added[0].created_time
        )
        assert monitors.get_report(added[1].report_id) == added[1]
        ends = [r.window_end // HOUR for r in monitors.list_reports("credit-drift")]
        assert ends == [4, 3, 2, 1]
        assert [r.window_end // HOUR for r in monitors.list_reports("credit-drift", limit=2)] == [
            4,
            3,
        ]
        within = monitors.list_reports("credit-drift", since=2 * HOUR, until=4 * HOUR)
        assert [r.window_end // HOUR for r in within] == [3, 2]
        assert [r.window_end // HOUR for r in monitors.list_reports("credit-drift", since=4 * HOUR)
                ] == [4]  # fmt: skip

    def test_a_failed_report_keeps_its_error_and_alerts(self, stores: StoreSet) -> None:
        monitors = stores.monitors
        monitors.create_monitor(drift())
        alerts = [{"rule": "drift.share > 0.3", "state": "firing", "labels": {"col": "amount"}}]
        failed = monitors.add_report(report(0, "failed", error="no traffic\nat all", results={}))
        alerting = monitors.add_report(report(HOUR, "alerting", alerts=alerts))
        assert (failed.status, failed.error, failed.results) == ("failed", "no traffic\nat all", {})
        assert (alerting.alerts, alerting.error) == (alerts, None)
        no_data = monitors.add_report(report(2 * HOUR, "no-data", model_versions=[]))
        assert no_data.model_versions == []

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"status": "fine"}, "report status 'fine' is not one of ok, alerting"),
            ({"window_end": -1}, "start <= end"),
            ({"window_start": "0"}, "start <= end"),
            ({"model_versions": "credit/3"}, "report model versions must be a list"),
            ({"results": [1]}, "report results must be a mapping"),
            ({"alerts": {"a": 1}}, "report alerts must be a list"),
            ({"error": 5}, "report error must be text or None"),
        ],
    )
    def test_a_bad_report_is_refused(
        self, stores: StoreSet, changes: dict[str, Any], message: str
    ) -> None:
        monitors = stores.monitors
        monitors.create_monitor(drift())
        with pytest.raises(InvalidInput, match=message):
            monitors.add_report(report(0, **changes))
        assert monitors.list_reports("credit-drift") == []
        with pytest.raises(InvalidInput, match="report limit must be a positive number"):
            monitors.list_reports("credit-drift", limit=0)

    def test_delete_takes_the_reports_with_it(self, stores: StoreSet) -> None:
        monitors = stores.monitors
        monitors.create_monitor(drift())
        kept = monitors.create_monitor(drift(name="other"))
        gone = monitors.add_report(report(0))
        other = monitors.add_report(report(0, monitor="other"))
        monitors.delete_monitor("credit-drift")
        with pytest.raises(NotFound, match="'credit-drift'"):
            monitors.get_monitor("credit-drift")
        with pytest.raises(NotFound, match=gone.report_id):
            monitors.get_report(gone.report_id)
        assert monitors.list_monitors() == [kept]
        assert monitors.list_reports("other") == [other]
        monitors.create_monitor(drift())
        assert monitors.list_reports("credit-drift") == []

    def test_unknown_monitor_and_report(self, stores: StoreSet) -> None:
        monitors = stores.monitors
        for call in (
            lambda: monitors.get_monitor("nope"),
            lambda: monitors.update_monitor(drift(name="nope")),
            lambda: monitors.record_run("nope", state={}, last_run_time=0, next_run_time=None),
            lambda: monitors.delete_monitor("nope"),
            lambda: monitors.add_report(report(0, monitor="nope")),
            lambda: monitors.list_reports("nope"),
        ):
            with pytest.raises(NotFound, match="monitor 'nope' not found"):
                call()
        with pytest.raises(NotFound, match="report 'abc' not found"):
            monitors.get_report("abc")

    def test_names_are_unique_per_project(self, stores: StoreSet) -> None:
        here, there = stores.monitors, stores.in_project("fraud").monitors
        mine = here.create_monitor(drift())
        theirs = there.create_monitor(drift(target="deployment:fraud-api"))
        assert (theirs.project, theirs.target) == ("fraud", "deployment:fraud-api")
        report_there = there.add_report(report(0))
        assert here.list_reports("credit-drift") == []
        with pytest.raises(NotFound):
            here.get_report(report_there.report_id)
        there.delete_monitor("credit-drift")
        assert here.get_monitor("credit-drift") == mine
        assert stores.in_project("empty").monitors.list_monitors() == []
