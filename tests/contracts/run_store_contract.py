"""The contract every tracking store backend passes: subclass and provide ``stores``."""

from __future__ import annotations

import dataclasses
import math
import time

import pytest

from mloop.entities import LifecycleStage, Run, RunIO, RunStatus, ViewType
from mloop.errors import AlreadyExists, Conflict, FilterSyntaxError, InvalidInput, NotFound
from mloop.store.protocols.tracking import Batch, Environment, NewRun, Termination
from mloop.store.set import StoreSet
from mloop.tracking.frames import runs_to_table


def now() -> int:
    return time.time_ns() // 1_000_000


class RunStoreContract:
    """Shared tests; a subclass supplies a fresh ``stores`` fixture for its backend."""

    __test__ = False

    # -- experiments -----------------------------------------------------
    def test_create_and_get_experiment(self, stores: StoreSet) -> None:
        exp_id = stores.experiments.create_experiment("exp", "loc", {"team": "risk"})
        exp = stores.experiments.get_experiment(exp_id)
        assert (exp.name, exp.artifact_location, dict(exp.tags)) == ("exp", "loc", {"team": "risk"})
        assert exp.lifecycle_stage == LifecycleStage.ACTIVE
        assert stores.experiments.get_experiment_by_name("exp") == exp
        assert stores.experiments.get_experiment_by_name("nope") is None

    def test_duplicate_experiment_name(self, stores: StoreSet) -> None:
        stores.experiments.create_experiment("dup")
        with pytest.raises(AlreadyExists, match="'dup' already exists"):
            stores.experiments.create_experiment("dup")

    def test_bad_experiment_name_and_id(self, stores: StoreSet) -> None:
        with pytest.raises(InvalidInput):
            stores.experiments.create_experiment("  ")
        with pytest.raises(InvalidInput):
            stores.experiments.get_experiment("abc")
        with pytest.raises(NotFound):
            stores.experiments.get_experiment("999999")

    def test_experiment_stages_and_search(self, stores: StoreSet) -> None:
        a = stores.experiments.create_experiment("a")
        b = stores.experiments.create_experiment("b")
        stores.experiments.set_experiment_stage(b, LifecycleStage.DELETED)
        names = lambda view: [e.name for e in stores.experiments.search_experiments(view)]  # noqa: E731
        assert names(ViewType.ACTIVE_ONLY) == ["a"]
        assert names(ViewType.DELETED_ONLY) == ["b"]
        assert names(ViewType.ALL) == ["a", "b"]
        assert [e.experiment_id for e in stores.experiments.search_experiments(name_like="a%")] == [
            a
        ]
        with pytest.raises(NotFound):
            stores.experiments.set_experiment_stage("424242", LifecycleStage.DELETED)
        stores.experiments.set_experiment_tag(a, "k", "v")
        stores.experiments.set_experiment_tag(a, "k", "w")
        assert stores.experiments.get_experiment(a).tags == {"k": "w"}

    # -- runs ------------------------------------------------------------
    def _run(self, stores: StoreSet, name: str = "r", exp: str | None = None) -> str:
        exp_id = exp or stores.experiments.create_experiment(f"e-{name}-{now()}-{id(object())}")
        return stores.runs.create_run(exp_id, name, now(), {"t": "1"}).run_id

    def test_create_run_round_trip(self, stores: StoreSet) -> None:
        exp = stores.experiments.create_experiment("e")
        env = Environment("d" * 64, "3.11.7", "linux", "a==1\nb==2")
        info = stores.runs.create_run(exp, "first", 1000, {"mloop.user": "me"}, None, env)
        run = stores.runs.get_run(info.run_id)
        assert run.info == info
        assert run.info.status == RunStatus.RUNNING
        assert run.data.tags == {"mloop.user": "me"}
        # the same environment again is stored once and does not fail
        stores.runs.create_run(exp, "second", 1001, {}, info.run_id, env)

    def test_runs_created_in_a_batch(self, stores: StoreSet) -> None:
        exp = stores.experiments.create_experiment("batched")
        env = Environment("e" * 64, "3.11", "linux", "x==1")
        ended = NewRun.build(exp, "ended", 10, {"a": "1"}, None, env)
        running = NewRun.build(exp, "running", 11, {}, ended.info.run_id, env)
        batch = Batch(
            runs=[ended, running],
            params=[(ended.info.run_id, "p", "1")],
            metrics=[(running.info.run_id, "m", 2.0, 11, 0)],
            tags=[(running.info.run_id, "t", "v")],
            terminations=[Termination(ended.info.run_id, RunStatus.FINISHED, 20)],
        )
        stores.runs.write_batch(batch)
        first = stores.runs.get_run(ended.info.run_id)
        assert (first.info.status, first.info.end_time) == (RunStatus.FINISHED, 20)
        assert (first.data.params, first.data.tags) == ({"p": "1"}, {"a": "1"})
        second = stores.runs.get_run(running.info.run_id)
        assert second.info == running.info
        assert (second.data.metrics, second.data.tags) == ({"m": 2.0}, {"t": "v"})
        orphan = NewRun.build("987654", "orphan", 1, {})
        with pytest.raises(NotFound):
            stores.runs.write_batch(Batch(runs=[orphan]))

    def test_create_run_in_unknown_experiment(self, stores: StoreSet) -> None:
        with pytest.raises(NotFound):
            stores.runs.create_run("987654", "r", now(), {})

    def test_get_unknown_run(self, stores: StoreSet) -> None:
        with pytest.raises(NotFound, match="nope"):
            stores.runs.get_run("nope")

    def test_params_are_immutable(self, stores: StoreSet) -> None:
        run_id = self._run(stores)
        stores.runs.log_params(run_id, {"lr": "0.1", "depth": "3"})
        stores.runs.log_params(run_id, {"lr": "0.1"})  # same value: fine
        with pytest.raises(Conflict, match=r"'lr'.*'0.1'.*'0.2'"):
            stores.runs.log_params(run_id, {"lr": "0.2", "new": "x"})
        # nothing of the failed call was written
        assert stores.runs.get_run(run_id).data.params == {"lr": "0.1", "depth": "3"}

    def test_buffered_params_conflict_keeps_the_rest(self, stores: StoreSet) -> None:
        run_id = self._run(stores)
        stores.runs.log_params(run_id, {"a": "1"})
        batch = Batch(
            params=[(run_id, "a", "2"), (run_id, "b", "3"), (run_id, "a", "1")],
            metrics=[(run_id, "m", 1.0, 0, 0)],
        )
        with pytest.raises(Conflict, match="'a' is '1', not '2'"):
            stores.runs.write_batch(batch)
        run = stores.runs.get_run(run_id)
        assert run.data.params == {"a": "1", "b": "3"}
        assert run.data.metrics == {"m": 1.0}

    def test_params_for_unknown_run(self, stores: StoreSet) -> None:
        with pytest.raises(NotFound):
            stores.runs.log_params("missing", {"a": "1"})

    def test_write_batch_and_latest_metrics(self, stores: StoreSet) -> None:
        run_id = self._run(stores)
        batch = Batch(
            metrics=[
                (run_id, "loss", 0.9, 10, 0),
                (run_id, "loss", 0.5, 11, 2),
                (run_id, "loss", 0.7, 12, 1),  # lower step: not the latest
                (run_id, "nan", math.nan, 10, 0),
                (run_id, "inf", math.inf, 10, 0),
                (run_id, "ninf", -math.inf, 10, 0),
            ],
            tags=[(run_id, "t", "2"), (run_id, "t", "3"), (run_id, "u", "x")],
        )
        stores.runs.write_batch(batch)
        run = stores.runs.get_run(run_id)
        assert run.data.metrics["loss"] == 0.5
        assert math.isnan(run.data.metrics["nan"])
        assert run.data.metrics["inf"] == math.inf
        assert run.data.metrics["ninf"] == -math.inf
        assert run.data.tags == {"t": "3", "u": "x"}
        history = stores.runs.get_metric_history(run_id, "loss")
        assert [(m.step, m.value) for m in history] == [(0, 0.9), (1, 0.7), (2, 0.5)]
        # a later batch with an older step does not move the latest value
        stores.runs.write_batch(Batch(metrics=[(run_id, "loss", 0.1, 99, 1)]))
        assert stores.runs.get_run(run_id).data.metrics["loss"] == 0.5
        stores.runs.write_batch(Batch(metrics=[(run_id, "loss", 0.2, 99, 2)]))
        assert stores.runs.get_run(run_id).data.metrics["loss"] == 0.2

    def test_write_batch_is_atomic(self, stores: StoreSet) -> None:
        run_id = self._run(stores)
        with pytest.raises(NotFound):
            stores.runs.write_batch(
                Batch(metrics=[(run_id, "ok", 1.0, 1, 0), ("ghost", "m", 1.0, 1, 0)])
            )
        assert stores.runs.get_metric_history(run_id, "ok") == []

    def test_a_value_the_store_cannot_hold_is_invalid_input(self, stores: StoreSet) -> None:
        run_id = self._run(stores)
        for bad in (
            Batch(metrics=[(run_id, "ok", 1.0, 1, 0), (run_id, "m", 1.0, 2**70, 0)]),
            Batch(metrics=[(run_id, "ok", 1.0, 1, 0)], tags=[(run_id, "t", "\udc80")]),
        ):
            with pytest.raises(InvalidInput, match="refused a value"):
                stores.runs.write_batch(bad)
        assert stores.runs.get_metric_history(run_id, "ok") == []

    def test_owner_and_heartbeat(self, stores: StoreSet) -> None:
        exp = stores.experiments.create_experiment("beats")
        new = NewRun.build(exp, "r", 1_000, {}, owner="host:1")
        ended = NewRun.build(exp, "e", 1_000, {}, owner="host:1")
        stores.runs.write_batch(
            Batch(
                runs=[new, ended],
                terminations=[Termination(ended.info.run_id, RunStatus.FINISHED, 2_000)],
            )
        )
        info = stores.runs.get_run(new.info.run_id).info
        assert (info.owner, info.heartbeat_time) == ("host:1", 1_000)
        stores.runs.heartbeat([ended.info.run_id, new.info.run_id, "ghost"], "host:2", 5_000)
        info = stores.runs.get_run(new.info.run_id).info
        assert (info.owner, info.heartbeat_time) == ("host:2", 5_000)
        finished = stores.runs.get_run(ended.info.run_id).info
        assert (finished.owner, finished.heartbeat_time) == ("host:1", 1_000)

    def test_claim_run_is_a_compare_and_set(self, stores: StoreSet) -> None:
        exp = stores.experiments.create_experiment("claims")
        new = NewRun.build(exp, "r", 1_000, {}, owner="host:1")
        run_id = new.info.run_id
        stores.runs.write_batch(
            Batch(runs=[new], terminations=[Termination(run_id, RunStatus.FAILED, 2_000)])
        )
        assert stores.runs.claim_run(run_id, RunStatus.FAILED, "host:1", "host:2", 5_000)
        info = stores.runs.get_run(run_id).info
        assert (info.status, info.owner, info.heartbeat_time) == (
            RunStatus.RUNNING,
            "host:2",
            5_000,
        )
        # A second claim on the state both saw loses and changes nothing.
        assert not stores.runs.claim_run(run_id, RunStatus.FAILED, "host:1", "host:3", 6_000)
        assert not stores.runs.claim_run(run_id, RunStatus.RUNNING, "host:1", "host:3", 6_000)
        assert not stores.runs.claim_run(run_id, RunStatus.RUNNING, None, "host:3", 6_000)
        assert not stores.runs.claim_run("ghost", RunStatus.FAILED, None, "host:3", 6_000)
        info = stores.runs.get_run(run_id).info
        assert (info.owner, info.heartbeat_time) == ("host:2", 5_000)
        assert stores.runs.claim_run(run_id, RunStatus.RUNNING, "host:2", "host:3", 7_000)
        unowned = NewRun.build(exp, "u", 1_000, {})
        stores.runs.write_batch(Batch(runs=[unowned]))
        assert stores.runs.claim_run(unowned.info.run_id, RunStatus.RUNNING, None, "host:4", 8_000)
        assert stores.runs.get_run(unowned.info.run_id).info.owner == "host:4"

    def test_terminate_and_update(self, stores: StoreSet) -> None:
        run_id = self._run(stores)
        stores.runs.write_batch(
            Batch(terminations=[Termination(run_id, RunStatus.FAILED, 5000, "boom")])
        )
        info = stores.runs.get_run(run_id).info
        assert (info.status, info.end_time, info.error) == (RunStatus.FAILED, 5000, "boom")
        info = stores.runs.update_run(run_id, status=RunStatus.RUNNING, run_name="renamed")
        assert (info.status, info.run_name) == (RunStatus.RUNNING, "renamed")
        with pytest.raises(NotFound):
            stores.runs.update_run("ghost", status=RunStatus.FINISHED)

    def test_delete_tag(self, stores: StoreSet) -> None:
        run_id = self._run(stores)
        stores.runs.delete_tag(run_id, "t")
        assert stores.runs.get_run(run_id).data.tags == {}
        with pytest.raises(NotFound):
            stores.runs.delete_tag(run_id, "t")

    def test_run_io(self, stores: StoreSet) -> None:
        run_id = self._run(stores)
        item = RunIO("a" * 64, "credit", "dataset", "input", "s3://x", "training")
        stores.runs.log_io(run_id, [item, item])
        stores.runs.log_io(run_id, [RunIO("b" * 64, "model", "model", "output")])
        run = stores.runs.get_run(run_id)
        assert run.inputs == (item,)
        assert [o.name for o in run.outputs] == ["model"]
        with pytest.raises(InvalidInput):
            stores.runs.log_io(run_id, [RunIO("c", "x", "y", "sideways")])
        other = self._run(stores, "other")
        stores.runs.log_io(other, [RunIO("a" * 64, "credit", "dataset", "output")])
        found = stores.runs.find_io("a" * 64)
        assert sorted((r, i.direction) for r, i in found) == sorted(
            [(run_id, "input"), (other, "output")]
        )
        assert stores.runs.find_io("z" * 64) == []

    def test_soft_delete_and_purge(self, stores: StoreSet) -> None:
        exp = stores.experiments.create_experiment("purge")
        keep = self._run(stores, "keep", exp)
        gone = self._run(stores, "gone", exp)
        stores.runs.write_batch(Batch(metrics=[(gone, "m", 1.0, 1, 0)]))
        stores.artifacts.record_artifacts(gone, [("a.txt", "f" * 64, 3)])
        stores.runs.set_run_stage(gone, LifecycleStage.DELETED)
        ids = lambda view: [r.info.run_id for r in stores.runs.search_runs([exp], view_type=view)]  # noqa: E731
        assert ids(ViewType.ACTIVE_ONLY) == [keep]
        assert ids(ViewType.DELETED_ONLY) == [gone]
        assert stores.runs.purge_runs(now() + 1000, dry_run=True) == [gone]
        assert stores.runs.purge_runs(0) == []  # deleted after time 0: too recent
        assert stores.runs.purge_runs(now() + 1000) == [gone]
        with pytest.raises(NotFound):
            stores.runs.get_run(gone)
        assert stores.artifacts.referenced_digests() == set()
        with pytest.raises(NotFound):
            stores.runs.set_run_stage(gone, LifecycleStage.ACTIVE)

    # -- run id prefixes -------------------------------------------------
    def test_find_run_ids_by_prefix(self, stores: StoreSet) -> None:
        exp = stores.experiments.create_experiment("prefixes")
        made = [NewRun.build(exp, name, 1, {}) for name in ("a", "b", "c", "d")]
        ids = ["abcd" + "0" * 28, "abcd" + "1" * 28, "abce" + "2" * 28, "f" * 32]
        runs = [
            dataclasses.replace(new, info=dataclasses.replace(new.info, run_id=run_id))
            for new, run_id in zip(made, ids, strict=True)
        ]
        stores.runs.write_batch(Batch(runs=runs))
        stores.runs.set_run_stage(ids[1], LifecycleStage.DELETED)  # the bin is searched too
        find = stores.runs.find_run_ids
        assert find("abcd", 10) == ids[:2]
        assert find("ABC", 10) == ids[:3]
        assert find("abc", 2) == ids[:2]
        assert find("abce2", 10) == [ids[2]]
        assert find(ids[3], 10) == [ids[3]]
        assert find("0123", 10) == []
        for bad in ("ab%", "a_cd", "xyz1", ""):
            with pytest.raises(InvalidInput):
                find(bad, 10)

    # -- search ----------------------------------------------------------
    def _populate(self, stores: StoreSet) -> tuple[str, list[str]]:
        exp = stores.experiments.create_experiment("search")
        ids = []
        for i in range(6):
            run_id = stores.runs.create_run(
                exp, f"run-{i}", 1000 + i, {"team": "a" if i % 2 else "b"}
            ).run_id
            stores.runs.log_params(run_id, {"lr": f"0.{i}", "model": "rf" if i < 3 else "xgb"})
            metrics = [(run_id, "auc", 0.5 + i / 10, 1, 0)]
            if i != 5:
                metrics.append((run_id, "loss", 1.0 - i / 10, 1, 0))
            stores.runs.write_batch(Batch(metrics=metrics))
            ids.append(run_id)
        return exp, ids

    def _search(
        self, stores: StoreSet, exp: str, flt: str | None = None, order: list[str] | None = None
    ) -> list[str]:
        return [r.info.run_name for r in stores.runs.search_runs([exp], flt, order_by=order)]

    def test_search_filters(self, stores: StoreSet) -> None:
        exp, _ = self._populate(stores)
        s = lambda f: sorted(self._search(stores, exp, f))  # noqa: E731
        assert s("metrics.auc > 0.75") == ["run-3", "run-4", "run-5"]
        assert s("metrics.auc >= 0.7 and params.model = 'xgb'") == ["run-3", "run-4", "run-5"]
        assert s("params.lr = '0.1' or tags.team = 'b' and metrics.auc < 0.55") == [
            "run-0",
            "run-1",
        ]
        assert s("tags.team != 'a'") == ["run-0", "run-2", "run-4"]
        assert s("params.model LIKE 'x%'") == ["run-3", "run-4", "run-5"]
        assert s("params.model LIKE 'X%'") == []
        assert s("params.model ILIKE 'X%'") == ["run-3", "run-4", "run-5"]
        assert s("params.lr IN ('0.1', '0.2')") == ["run-1", "run-2"]
        assert s("params.lr NOT IN ('0.1', '0.2')") == ["run-0", "run-3", "run-4", "run-5"]
        assert s("metrics.loss < 0.8 and not metrics.auc > 0.85") == ["run-3"]
        assert s("attributes.run_name = 'run-2'") == ["run-2"]
        assert s("status = 'RUNNING' and start_time >= 1004") == ["run-4", "run-5"]
        assert s(f"attributes.experiment_id = '{exp}'") == [f"run-{i}" for i in range(6)]
        assert s("metrics.missing > 0") == []

    def test_unknown_filter_keys(self, stores: StoreSet) -> None:
        exp, _ = self._populate(stores)
        other = stores.experiments.create_experiment("other")
        unknown = stores.runs.unknown_filter_keys
        assert unknown([exp], "metrics.auc > 0.99 and params.lr = '9'") == {}
        assert unknown([exp], "metrics.aucc > 0.5 or tags.teem = 'a' or params.zzz = '1'") == {
            "metrics.aucc": ["metrics.auc"],
            "tags.teem": ["tags.team"],
            "params.zzz": [],
        }
        # a param named like a metric is no match for a metric
        assert unknown([exp], "metrics.lr > 0") == {"metrics.lr": []}
        assert unknown([other], "metrics.auc > 0") == {"metrics.auc": []}
        assert unknown([exp], "attributes.run_name = 'x'") == {}
        assert unknown([exp], "tags.`mloop.kind` = 'pipeline'") == {}
        assert unknown([exp], None) == {}

    def test_search_order_and_pages(self, stores: StoreSet) -> None:
        exp, _ = self._populate(stores)
        assert self._search(stores, exp) == [f"run-{i}" for i in reversed(range(6))]
        assert self._search(stores, exp, order=["metrics.auc ASC"]) == [
            f"run-{i}" for i in range(6)
        ]
        # missing values sort last in both directions
        assert self._search(stores, exp, order=["metrics.loss DESC"])[-1] == "run-5"
        assert self._search(stores, exp, order=["metrics.loss ASC"])[-1] == "run-5"
        assert self._search(stores, exp, order=["params.model DESC", "attributes.start_time"])[
            :3
        ] == [
            "run-3",
            "run-4",
            "run-5",
        ]
        seen: list[str] = []
        token = None
        while True:
            page = stores.runs.search_runs(
                [exp], max_results=4, order_by=["metrics.auc"], page_token=token
            )
            seen += [r.info.run_name for r in page]
            token = page.next_page_token
            if token is None:
                break
        assert seen == [f"run-{i}" for i in range(6)]

    def _as_table_page(self, runs: list[Run]) -> dict[str, object]:
        """What search_run_table must return for the runs search_runs returned."""
        table = runs_to_table(runs)
        return {
            **dataclasses.asdict(table),
            "metrics": {
                key: [None if v is None or math.isnan(v) else v for v in values]
                for key, values in table.metrics.items()
            },
            "next_page_token": None,
        }

    def test_search_run_table_is_the_same_page_as_search_runs(self, stores: StoreSet) -> None:
        exp, ids = self._populate(stores)
        stores.runs.write_batch(
            Batch(
                metrics=[(ids[0], "odd", math.nan, 1, 0), (ids[1], "odd", -math.inf, 1, 0)],
                tags=[(ids[2], "note", "é" * 3000)],
            )
        )
        other = stores.experiments.create_experiment("other-search")
        stores.runs.create_run(other, "elsewhere", 1, {})
        cases: list[tuple[str | None, list[str] | None, int]] = [
            (None, None, 1000),
            ("metrics.auc > 0.55 and params.model = 'xgb'", ["metrics.loss DESC"], 1000),
            ("tags.team = 'a' or metrics.odd < 0", ["params.lr"], 2),
            ("metrics.auc >= 0.5", ["metrics.odd ASC", "attributes.run_name DESC"], 4),
            ("params.lr = 'none'", None, 10),
        ]
        for flt, order, size in cases:
            token: str | None = None
            while True:
                page = stores.runs.search_runs([exp, other], flt, ViewType.ALL, size, order, token)
                table = stores.runs.search_run_table(
                    [exp, other], flt, ViewType.ALL, size, order, token
                )
                expected = self._as_table_page(list(page)) | {
                    "next_page_token": page.next_page_token
                }
                assert dataclasses.asdict(table) == expected, (flt, order, size, token)
                assert len(table) == len(page)
                token = page.next_page_token
                if token is None:
                    break

    def test_search_run_table_bad_input(self, stores: StoreSet) -> None:
        exp, _ = self._populate(stores)
        with pytest.raises(FilterSyntaxError):
            stores.runs.search_run_table([exp], "metrics.auc >> 1")
        with pytest.raises(InvalidInput, match="page token"):
            stores.runs.search_run_table([exp], page_token="garbage!")
        with pytest.raises(InvalidInput, match="max_results"):
            stores.runs.search_run_table([exp], max_results=0)

    def test_search_bad_input(self, stores: StoreSet) -> None:
        exp, _ = self._populate(stores)
        with pytest.raises(FilterSyntaxError) as info:
            stores.runs.search_runs([exp], "metrics.auc >> 1")
        assert info.value.position == 13
        with pytest.raises(FilterSyntaxError):
            stores.runs.search_runs([exp], order_by=["metrics.auc SIDEWAYS"])
        with pytest.raises(InvalidInput, match="page token"):
            stores.runs.search_runs([exp], page_token="garbage!")
        with pytest.raises(InvalidInput, match="max_results"):
            stores.runs.search_runs([exp], max_results=0)

    # -- artifacts -------------------------------------------------------
    def test_artifact_index(self, stores: StoreSet) -> None:
        run_id = self._run(stores)
        stores.artifacts.record_artifacts(
            run_id,
            [
                ("model/model.pkl", "1" * 64, 10),
                ("model/conf/a.json", "2" * 64, 2),
                ("notes.txt", "3" * 64, 1),
            ],
        )
        top = stores.artifacts.list_artifacts(run_id)
        assert [(a.path, a.is_dir) for a in top] == [("model", True), ("notes.txt", False)]
        inner = stores.artifacts.list_artifacts(run_id, "model")
        assert [(a.path, a.is_dir) for a in inner] == [
            ("model/conf", True),
            ("model/model.pkl", False),
        ]
        assert [a.path for a in stores.artifacts.find_artifacts(run_id, "model")] == [
            "model/conf/a.json",
            "model/model.pkl",
        ]
        assert stores.artifacts.find_artifacts(run_id, "mod") == []
        # logging a path again points it at the new bytes
        stores.artifacts.record_artifacts(run_id, [("notes.txt", "4" * 64, 5)])
        assert stores.artifacts.find_artifacts(run_id, "notes.txt")[0].digest == "4" * 64
        assert stores.artifacts.referenced_digests() == {"1" * 64, "2" * 64, "4" * 64}
        assert stores.artifacts.referenced_digests(exclude_runs=[run_id]) == set()
        with pytest.raises(NotFound):
            stores.artifacts.record_artifacts("ghost", [("x", "5" * 64, 1)])

    def test_like_wildcards_in_artifact_prefix_are_literal(self, stores: StoreSet) -> None:
        run_id = self._run(stores)
        stores.artifacts.record_artifacts(run_id, [("a_b/x", "1" * 64, 1), ("axb/y", "2" * 64, 1)])
        assert [a.path for a in stores.artifacts.find_artifacts(run_id, "a_b")] == ["a_b/x"]
