"""The contract every model registry backend passes: subclass and provide ``model_store_uri``.

``model_store_uri`` names a fresh, empty store; the suite opens a store set on
it (:func:`mloop.store.sql.open_sql_store_set`) as ``model_stores`` and uses its
registry part (models, aliases, governance, keys); it opens it again
(``open_model_stores_again``) where a test needs a second, independent client of
the same database (its own engine and connections), as concurrent writers are.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from mloop.entities import (
    AliasChange,
    AliasProtection,
    Decision,
    EvaluationRecord,
    GateRecord,
    ModelFile,
    ModelVersionStatus,
    SigningKey,
)
from mloop.errors import AlreadyExists, Conflict, NotFound
from mloop.store import schema
from mloop.store.engine import create_engine
from mloop.store.protocols.registry import NewVersion
from mloop.store.set import StoreSet
from tests.contracts.opening import OpenStores, store_opener

# Every table holding a model, a version or something hanging off them.
MODEL_TABLES = (
    schema.registered_models,
    schema.registered_model_tags,
    schema.model_versions,
    schema.model_version_files,
    schema.model_aliases,
    schema.model_alias_history,
    schema.alias_protections,
    schema.model_decisions,
    schema.model_gate_results,
    schema.model_evaluations,
)


def now() -> int:
    return time.time_ns() // 1_000_000


def digest(seed: str) -> str:
    return (seed * 64)[:64]


def new_version(
    seed: str = "a",
    *,
    files: tuple[ModelFile, ...] = (),
    created_by: str = "ana",
    run_id: str | None = None,
) -> NewVersion:
    return NewVersion(
        digest=digest(seed),
        manifest_digest=digest(seed.upper()),
        flavor="sklearn",
        source=f"runs:/r{seed}/model",
        files=files,
        created_by=created_by,
        run_id=run_id,
    )


def row_counts(uri: str) -> dict[str, int]:
    """How many rows each model table holds, read straight from the database."""
    engine = create_engine(uri)
    try:
        with engine.connect() as conn:
            return {
                t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in MODEL_TABLES
            }
    finally:
        engine.dispose()


def gate(
    name: str, version: int, passed: bool, time_: int, run_id: str | None = None
) -> GateRecord:
    return GateRecord(
        name=name,
        version=version,
        against="champion",
        data="ds@1",
        passed=passed,
        rules=(
            {"rule": "auc >= 0.8", "passed": passed, "value": 0.91, "threshold": 0.8, "note": ""},
            {
                "rule": "latency_ms <= 50",
                "passed": True,
                "value": 12,
                "threshold": 50,
                "note": "p99",
            },
        ),
        actor="ci",
        time=time_,
        details={"candidate": {"auc": 0.91, "n": 1000}, "champion": None, "slices": [1, 2]},
        run_id=run_id,
    )


class ModelStoreContract:
    """Shared tests; a subclass supplies ``model_store_uri``, a fresh store per test."""

    __test__ = False

    @pytest.fixture
    def open_model_stores_again(self, model_store_uri: str) -> Iterator[OpenStores]:
        yield from store_opener(model_store_uri)

    @pytest.fixture
    def model_stores(self, open_model_stores_again: OpenStores) -> StoreSet:
        return open_model_stores_again()

    # -- models ----------------------------------------------------------
    def test_create_and_get_model(self, model_stores: StoreSet) -> None:
        before = now()
        created = model_stores.models.create_model("credit", description="risk", owner="ana")
        assert (created.name, created.description, created.owner) == ("credit", "risk", "ana")
        assert (dict(created.tags), dict(created.aliases), created.latest_version) == ({}, {}, None)
        assert before <= created.created_time <= created.updated_time <= now()
        assert model_stores.models.get_model("credit") == created
        with pytest.raises(AlreadyExists, match="'credit'"):
            model_stores.models.create_model("credit")
        assert model_stores.models.get_model("credit") == created  # the loser changed nothing

    def test_unknown_model(self, model_stores: StoreSet) -> None:
        models = model_stores.models
        with pytest.raises(NotFound, match="'nope'"):
            models.get_model("nope")
        with pytest.raises(NotFound, match="'nope'"):
            models.update_model("nope", description="x")
        with pytest.raises(NotFound, match="'nope'"):
            models.delete_model("nope")
        with pytest.raises(NotFound, match="'nope'"):
            models.list_versions("nope")
        assert models.find_versions(digest("a")) == []

    def test_list_models_by_name(self, model_stores: StoreSet) -> None:
        assert model_stores.models.list_models() == []
        for name in ("zeta", "alpha", "mid", "beta"):
            model_stores.models.create_model(name)
        model_stores.models.create_version("gamma", new_version())
        names = [m.name for m in model_stores.models.list_models()]
        assert names == sorted(names) and set(names) == {"zeta", "alpha", "mid", "beta", "gamma"}
        listed = {m.name: m for m in model_stores.models.list_models()}
        assert listed["gamma"].latest_version == 1
        assert listed["alpha"] == model_stores.models.get_model("alpha")

    def test_update_model(self, model_stores: StoreSet) -> None:
        models = model_stores.models
        created = models.create_model("credit", description="old")
        updated = models.update_model("credit", tags={"team": "risk", "tier": "1"})
        assert (updated.description, dict(updated.tags)) == ("old", {"team": "risk", "tier": "1"})
        assert updated.updated_time >= created.updated_time
        updated = models.update_model("credit", description="new", tags={"tier": "2"})
        assert (updated.description, dict(updated.tags)) == ("new", {"team": "risk", "tier": "2"})
        updated = models.update_model("credit", tags={"team": None, "absent": None})
        assert (updated.description, dict(updated.tags)) == ("new", {"tier": "2"})
        assert models.update_model("credit") == models.get_model("credit")
        assert models.get_model("credit").tags == {"tier": "2"}
        assert models.update_model("credit", description="").description == ""

    def test_delete_model_takes_everything_with_it(
        self, model_stores: StoreSet, model_store_uri: str
    ) -> None:
        models, aliases, gov = model_stores.models, model_stores.aliases, model_stores.governance
        models.create_version("other", new_version("o", files=(ModelFile("m.pkl", "f" * 64, 1),)))
        aliases.set_alias("other", "champion", 1, expected=None, actor="ana")
        gov.record_decision(Decision("other", 1, "bob", "approve", "ok", now()))
        untouched = row_counts(model_store_uri)

        t = now()
        for seed in "abc":
            models.create_version(
                "credit", new_version(seed, files=(ModelFile(f"{seed}.pkl", digest(seed), 3),))
            )
        models.update_model("credit", tags={"team": "risk"})
        aliases.set_alias("credit", "champion", 1, expected=None, actor="ana")
        aliases.set_alias("credit", "champion", 2, expected=1, actor="ana")
        aliases.set_alias("credit", "challenger", 3, expected=None, actor="ana")
        aliases.delete_alias("credit", "challenger", expected=3, actor="ana")
        gov.set_protection(AliasProtection("credit", "champion", 1, ("auc",), "ana", t))
        gov.record_decision(Decision("credit", 2, "bob", "approve", "", t))
        gov.record_gate(gate("credit", 2, True, t))
        gov.record_evaluation(EvaluationRecord("credit", 2, "ds@1", {"auc": 0.9}, "ci", t))
        assert all(row_counts(model_store_uri)[n] > c for n, c in untouched.items())

        models.delete_model("credit")
        assert row_counts(model_store_uri) == untouched
        with pytest.raises(NotFound):
            models.get_model("credit")
        with pytest.raises(NotFound):
            models.get_version("credit", 1)
        with pytest.raises(NotFound):
            aliases.alias_history("credit")
        with pytest.raises(NotFound):
            gov.list_protections("credit")
        assert [m.name for m in models.list_models()] == ["other"]
        assert models.find_versions(digest("a")) == []
        assert aliases.get_alias("other", "champion").version == 1
        assert len(gov.list_decisions("other", 1)) == 1

        # The name is free again, and the new model inherits nothing.
        models.create_version("credit", new_version("d"))
        (number,) = [v.version for v in models.list_versions("credit")]
        assert models.get_model("credit").tags == {}
        assert models.get_model("credit").aliases == {}
        assert aliases.alias_history("credit") == []
        assert gov.list_protections("credit") == []
        assert gov.list_decisions("credit", number) == []
        assert gov.list_gates("credit", number) == []
        assert gov.list_evaluations("credit", number) == []

    # -- versions --------------------------------------------------------
    def test_create_version_creates_the_model_and_numbers(self, model_stores: StoreSet) -> None:
        models = model_stores.models
        before = now()
        v1 = models.create_version("credit", new_version("a", created_by="ana", run_id="r1"))
        assert (v1.name, v1.version, v1.ref) == ("credit", 1, "credit/1")
        assert (v1.digest, v1.manifest_digest) == (digest("a"), digest("A"))
        assert (v1.flavor, v1.source, v1.run_id, v1.created_by) == (
            "sklearn",
            "runs:/ra/model",
            "r1",
            "ana",
        )
        assert v1.status == ModelVersionStatus.READY
        assert before <= v1.created_time <= now()
        assert (v1.description, dict(v1.metrics), v1.aliases, v1.files) == ("", {}, [], ())
        assert (v1.signature, v1.signing_key_id) == (None, None)
        model = models.get_model("credit")
        assert (model.name, model.latest_version, model.owner) == ("credit", 1, "ana")

        v2 = models.create_version("credit", new_version("b", created_by="bob"))
        v3 = models.create_version("credit", new_version("a"))  # same package: still a version
        assert (v2.version, v3.version) == (2, 3)
        assert models.get_model("credit").owner == "ana"  # the first registrant owns it
        assert models.get_model("credit").latest_version == 3
        assert models.list_versions("credit") == [v1, v2, v3]
        assert models.get_version("credit", 2) == v2
        assert models.create_version("other", new_version("c")).version == 1  # per model

    def test_create_version_for_an_existing_model(self, model_stores: StoreSet) -> None:
        created = model_stores.models.create_model("credit", description="risk", owner="ana")
        v1 = model_stores.models.create_version("credit", new_version(created_by="bob"))
        assert v1.version == 1
        model = model_stores.models.get_model("credit")
        assert (model.description, model.owner, model.created_time) == (
            "risk",
            "ana",
            created.created_time,
        )

    def test_numbers_are_never_reused(self, model_stores: StoreSet) -> None:
        models = model_stores.models
        for seed in "abc":
            models.create_version("credit", new_version(seed))
        deleted = models.delete_version("credit", 3)
        assert (deleted.version, deleted.digest) == (3, digest("c"))
        with pytest.raises(NotFound):
            models.get_version("credit", 3)
        assert models.get_model("credit").latest_version == 2
        assert models.create_version("credit", new_version("d")).version == 4
        models.delete_version("credit", 1)
        models.delete_version("credit", 4)
        assert models.create_version("credit", new_version("e")).version == 5
        assert [v.version for v in models.list_versions("credit")] == [2, 5]
        with pytest.raises(NotFound):
            models.delete_version("credit", 4)
        with pytest.raises(NotFound, match="'nope'"):
            models.delete_version("nope", 1)

    def test_delete_every_version_keeps_the_model_and_its_count(
        self, model_stores: StoreSet
    ) -> None:
        models = model_stores.models
        models.create_version("credit", new_version("a"))
        models.create_version("credit", new_version("b"))
        models.delete_version("credit", 1)
        models.delete_version("credit", 2)
        assert models.get_model("credit").latest_version is None
        assert models.list_versions("credit") == []
        assert models.create_version("credit", new_version("c")).version == 3

    def test_files_only_when_asked_sorted_by_path(self, model_stores: StoreSet) -> None:
        files = (
            ModelFile("model/weights.bin", "1" * 64, 1_000_000_000_000),
            ModelFile("MLmodel", "2" * 64, 120),
            ModelFile("model/a.json", "3" * 64, 0),
            ModelFile("conda.yaml", "4" * 64, 55),
        )
        created = model_stores.models.create_version("credit", new_version(files=files))
        assert created.files == ()
        plain = model_stores.models.get_version("credit", 1)
        assert plain.files == ()
        full = model_stores.models.get_version("credit", 1, with_files=True)
        assert full.files == tuple(sorted(files, key=lambda f: f.path))
        assert full == dataclasses.replace(plain, files=full.files)
        assert all(v.files == () for v in model_stores.models.list_versions("credit"))
        assert all(v.files == () for v in model_stores.models.find_versions(digest("a")))
        empty = model_stores.models.create_version("credit", new_version("b"))
        assert model_stores.models.get_version("credit", empty.version, with_files=True).files == ()

    def test_metadata_round_trip(self, model_stores: StoreSet) -> None:
        metrics = {"auc": 0.9123456789012345, "loss": 1e-12, "n": 1000.0, "neg": -3.5}
        created = model_stores.models.create_version(
            "credit",
            dataclasses.replace(
                new_version(run_id="0123456789abcdef0123456789abcdef"),
                description="retrained on Q3 — ünïcode",
                metrics=metrics,
                signature="c2lnbmF0dXJl" * 8,
                signing_key_id="k" * 16,
            ),
        )
        got = model_stores.models.get_version("credit", 1)
        assert got == created
        assert dict(got.metrics) == metrics
        assert (got.signature, got.signing_key_id) == ("c2lnbmF0dXJl" * 8, "k" * 16)
        assert got.description == "retrained on Q3 — ünïcode"
        assert got.run_id == "0123456789abcdef0123456789abcdef"

    def test_find_versions_by_digest_across_models(self, model_stores: StoreSet) -> None:
        models = model_stores.models
        models.create_version("zeta", new_version("a"))
        models.create_version("credit", new_version("b"))
        models.create_version("credit", new_version("a"))
        models.create_version("alpha", new_version("a"))
        found = models.find_versions(digest("a"))
        assert sorted(v.ref for v in found) == ["alpha/1", "credit/2", "zeta/1"]
        assert all(v.digest == digest("a") for v in found)
        assert [v.ref for v in models.find_versions(digest("b"))] == ["credit/1"]
        assert models.find_versions(digest("z")) == []
        model_stores.aliases.set_alias("credit", "champion", 2, expected=None, actor="ana")
        (with_alias,) = [v for v in models.find_versions(digest("a")) if v.name == "credit"]
        assert with_alias.aliases == ["champion"]

    def test_set_status(self, model_stores: StoreSet) -> None:
        models = model_stores.models
        models.create_version("credit", new_version("a"))
        models.create_version("credit", new_version("b"))
        archived = models.set_status("credit", 1, ModelVersionStatus.ARCHIVED)
        assert (archived.version, archived.status) == (1, ModelVersionStatus.ARCHIVED)
        assert models.get_version("credit", 1).status == ModelVersionStatus.ARCHIVED
        assert models.get_version("credit", 2).status == ModelVersionStatus.READY
        restored = models.set_status("credit", 1, ModelVersionStatus.READY)
        assert restored == models.get_version("credit", 1)
        assert restored.status == ModelVersionStatus.READY
        with pytest.raises(NotFound):
            models.set_status("credit", 9, ModelVersionStatus.ARCHIVED)
        with pytest.raises(NotFound, match="'nope'"):
            models.set_status("nope", 1, ModelVersionStatus.ARCHIVED)

    def test_set_signature(self, model_stores: StoreSet) -> None:
        models = model_stores.models
        created = models.create_version("credit", new_version("a"))
        models.create_version("credit", new_version("b"))
        signed = models.set_signature("credit", 1, "k1", "c2lnMQ==")
        assert signed == dataclasses.replace(created, signature="c2lnMQ==", signing_key_id="k1")
        assert models.get_version("credit", 1) == signed
        assert (
            models.get_version("credit", 2).signature,
            models.get_version("credit", 2).signing_key_id,
        ) == (None, None)
        resigned = models.set_signature("credit", 1, "k2", "c2lnMg==")
        assert (resigned.signature, resigned.signing_key_id) == ("c2lnMg==", "k2")
        with pytest.raises(NotFound, match=r"'credit'.*9"):
            models.set_signature("credit", 9, "k1", "c2ln")
        with pytest.raises(NotFound, match="'nope'"):
            models.set_signature("nope", 1, "k1", "c2ln")

    def test_get_version_not_found(self, model_stores: StoreSet) -> None:
        models = model_stores.models
        with pytest.raises(NotFound, match="'nope'"):
            models.get_version("nope", 1)
        models.create_version("credit", new_version())
        with pytest.raises(NotFound, match=r"'credit'.*2"):
            models.get_version("credit", 2)
        with pytest.raises(NotFound, match=r"'credit'.*2"):
            models.get_version("credit", 2, with_files=True)
        models.create_model("empty")
        with pytest.raises(NotFound, match="'empty'"):
            models.get_version("empty", 1)

    def test_concurrent_numbering(self, open_model_stores_again: OpenStores) -> None:
        clients = [open_model_stores_again() for _ in range(2)]
        start = threading.Barrier(len(clients))

        def register(stores: StoreSet, seed: str) -> list[int]:
            start.wait(timeout=30)
            return [
                stores.models.create_version("credit", new_version(seed)).version for _ in range(10)
            ]

        with ThreadPoolExecutor(len(clients)) as pool:
            futures = [
                pool.submit(register, s, seed) for s, seed in zip(clients, "ab", strict=True)
            ]
            numbers = [f.result(timeout=120) for f in futures]
        for mine in numbers:
            assert mine == sorted(mine)  # each writer sees its numbers increase
        assert sorted(numbers[0] + numbers[1]) == list(range(1, 21))
        listed = clients[0].models.list_versions("credit")
        assert [v.version for v in listed] == list(range(1, 21))
        assert sum(v.digest == digest("a") for v in listed) == 10
        assert clients[1].models.get_model("credit").latest_version == 20

    # -- aliases ---------------------------------------------------------
    def test_set_and_move_alias(self, model_stores: StoreSet) -> None:
        models, aliases = model_stores.models, model_stores.aliases
        for seed in "abc":
            models.create_version("credit", new_version(seed))
        before = now()
        first = aliases.set_alias(
            "credit", "champion", 1, expected=None, actor="ana", reason="first"
        )
        assert first == AliasChange(
            "credit", "champion", "set", None, 1, "ana", "first", first.time
        )
        assert before <= first.time <= now()
        got = aliases.get_alias("credit", "champion")
        assert (got.version, got.aliases) == (1, ["champion"])
        assert got == models.get_version("credit", 1)

        moved = aliases.set_alias("credit", "champion", 2, expected=1, actor="bob")
        assert (moved.action, moved.from_version, moved.to_version, moved.reason) == (
            "set",
            1,
            2,
            "",
        )
        aliases.set_alias("credit", "challenger", 2, expected=None, actor="bob")
        aliases.set_alias("credit", "baseline", 1, expected=None, actor="bob")
        got = aliases.get_alias("credit", "champion")
        assert (got.version, got.aliases) == (2, ["challenger", "champion"])
        assert models.get_version("credit", 1).aliases == ["baseline"]
        assert models.get_version("credit", 3).aliases == []
        assert [(v.version, v.aliases) for v in models.list_versions("credit")] == [
            (1, ["baseline"]),
            (2, ["challenger", "champion"]),
            (3, []),
        ]
        assert models.get_model("credit").aliases == {
            "baseline": 1,
            "challenger": 2,
            "champion": 2,
        }
        assert models.get_model("credit").updated_time >= moved.time

    def test_an_archived_version_takes_no_alias_and_an_aliased_one_is_not_archived(
        self, model_stores: StoreSet
    ) -> None:
        models, aliases = model_stores.models, model_stores.aliases
        for seed in "ab":
            models.create_version("credit", new_version(seed))
        models.set_status("credit", 2, ModelVersionStatus.ARCHIVED)
        with pytest.raises(Conflict, match="archived"):
            aliases.set_alias("credit", "champion", 2, expected=None, actor="ana")
        aliases.set_alias("credit", "champion", 1, expected=None, actor="ana")
        with pytest.raises(Conflict, match="champion"):
            models.set_status("credit", 1, ModelVersionStatus.ARCHIVED)
        assert models.get_version("credit", 1).status == ModelVersionStatus.READY
        assert [c.to_version for c in aliases.alias_history("credit")] == [1]

    def test_alias_history(self, model_stores: StoreSet) -> None:
        models, aliases = model_stores.models, model_stores.aliases
        for seed in "abc":
            models.create_version("credit", new_version(seed))
        changes = [
            aliases.set_alias("credit", "champion", 1, expected=None, actor="ana", reason="r1"),
            aliases.set_alias("credit", "challenger", 3, expected=None, actor="bob", reason="r2"),
            aliases.set_alias("credit", "champion", 2, expected=1, actor="cy", reason="r3"),
            aliases.set_alias(
                "credit", "champion", 1, expected=2, actor="dee", reason="r4", action="rollback"
            ),
            aliases.delete_alias("credit", "challenger", expected=3, actor="eve", reason="r5"),
            # the same version again: recorded
            aliases.set_alias("credit", "champion", 1, expected=1, actor="fay"),
        ]
        summary = [
            (c.alias, c.action, c.from_version, c.to_version, c.actor, c.reason) for c in changes
        ]
        assert summary == [
            ("champion", "set", None, 1, "ana", "r1"),
            ("challenger", "set", None, 3, "bob", "r2"),
            ("champion", "set", 1, 2, "cy", "r3"),
            ("champion", "rollback", 2, 1, "dee", "r4"),
            ("challenger", "delete", 3, None, "eve", "r5"),
            ("champion", "set", 1, 1, "fay", ""),
        ]
        assert aliases.alias_history("credit") == changes
        assert aliases.alias_history("credit", "champion") == [
            c for c in changes if c.alias == "champion"
        ]
        assert aliases.alias_history("credit", "challenger") == [changes[1], changes[4]]
        assert aliases.alias_history("credit", "never") == []
        times = [c.time for c in changes]
        assert times == sorted(times)
        models.create_version("other", new_version("o"))
        assert aliases.alias_history("other") == []
        with pytest.raises(NotFound, match="'nope'"):
            aliases.alias_history("nope")

    def test_delete_alias(self, model_stores: StoreSet) -> None:
        models, aliases = model_stores.models, model_stores.aliases
        models.create_version("credit", new_version())
        aliases.set_alias("credit", "champion", 1, expected=None, actor="ana")
        deleted = aliases.delete_alias(
            "credit", "champion", expected=1, actor="bob", reason="retired"
        )
        assert deleted == AliasChange(
            "credit", "champion", "delete", 1, None, "bob", "retired", deleted.time
        )
        with pytest.raises(NotFound, match="champion"):
            aliases.get_alias("credit", "champion")
        assert models.get_version("credit", 1).aliases == []
        assert models.get_model("credit").aliases == {}
        assert aliases.alias_history("credit")[-1] == deleted
        with pytest.raises(Conflict, match="champion is not set"):
            aliases.delete_alias("credit", "champion", expected=1, actor="bob")
        with pytest.raises(NotFound, match="'nope'"):
            aliases.delete_alias("nope", "champion", expected=1, actor="bob")
        assert len(aliases.alias_history("credit")) == 2  # the failed deletes left no trace
        again = aliases.set_alias("credit", "champion", 1, expected=None, actor="ana")
        assert (again.from_version, again.to_version) == (None, 1)

    def test_alias_not_found(self, model_stores: StoreSet) -> None:
        aliases = model_stores.aliases
        with pytest.raises(NotFound, match="'nope'"):
            aliases.get_alias("nope", "champion")
        with pytest.raises(NotFound, match="'nope'"):
            aliases.set_alias("nope", "champion", 1, expected=None, actor="ana")
        model_stores.models.create_version("credit", new_version())
        with pytest.raises(NotFound, match="champion"):
            aliases.get_alias("credit", "champion")
        with pytest.raises(NotFound, match=r"'credit'.*2"):
            aliases.set_alias("credit", "champion", 2, expected=None, actor="ana")
        assert aliases.alias_history("credit") == []

    def test_delete_version_takes_its_aliases(self, model_stores: StoreSet) -> None:
        models, aliases = model_stores.models, model_stores.aliases
        models.create_version("credit", new_version("a"))
        models.create_version("credit", new_version("b"))
        aliases.set_alias("credit", "champion", 2, expected=None, actor="ana")
        aliases.set_alias("credit", "baseline", 1, expected=None, actor="ana")
        models.delete_version("credit", 2)
        with pytest.raises(NotFound):
            aliases.get_alias("credit", "champion")
        assert models.get_model("credit").aliases == {"baseline": 1}
        assert aliases.get_alias("credit", "baseline").version == 1
        # The history speaks in numbers, so it outlives the version it names.
        assert [c.to_version for c in aliases.alias_history("credit", "champion")] == [2]

    def test_compare_and_set_wins_and_loses(self, model_stores: StoreSet) -> None:
        models, aliases = model_stores.models, model_stores.aliases
        for seed in "abc":
            models.create_version("credit", new_version(seed))
        aliases.set_alias("credit", "champion", 1, expected=None, actor="ana")
        model_before = models.get_model("credit")
        history_before = aliases.alias_history("credit")

        with pytest.raises(Conflict, match=r"credit@champion points at version 1.*unset"):
            aliases.set_alias("credit", "champion", 2, expected=None, actor="bob")
        with pytest.raises(Conflict, match=r"credit@champion points at version 1.*version 3"):
            aliases.set_alias("credit", "champion", 2, expected=3, actor="bob")
        with pytest.raises(Conflict, match=r"credit@challenger is not set.*version 1"):
            aliases.set_alias("credit", "challenger", 2, expected=1, actor="bob")
        with pytest.raises(Conflict, match=r"credit@champion points at version 1.*version 2"):
            aliases.delete_alias("credit", "champion", expected=2, actor="bob")
        # A lost compare changes nothing and records nothing.
        assert aliases.get_alias("credit", "champion").version == 1
        with pytest.raises(NotFound):
            aliases.get_alias("credit", "challenger")
        assert aliases.alias_history("credit") == history_before
        assert models.get_model("credit") == model_before
        assert models.get_version("credit", 2).aliases == []

        won = aliases.set_alias("credit", "champion", 2, expected=1, actor="bob")
        assert (won.from_version, won.to_version) == (1, 2)
        # An unknown version is NotFound, whatever the caller expected.
        with pytest.raises(NotFound, match=r"'credit'.*9"):
            aliases.set_alias("credit", "champion", 9, expected=1, actor="bob")

    @pytest.mark.parametrize("clients", ["one store set", "two store sets"])
    def test_concurrent_moves_from_one_seen_version(
        self, open_model_stores_again: OpenStores, clients: str
    ) -> None:
        first = open_model_stores_again()
        pair = [first, first if clients == "one store set" else open_model_stores_again()]
        for seed in "abc":
            first.models.create_version("credit", new_version(seed))
        first.aliases.set_alias("credit", "champion", 1, expected=None, actor="ana")
        rounds = 8
        start = threading.Barrier(2)

        def move(stores: StoreSet, target: int) -> bool:
            seen = stores.aliases.get_alias("credit", "champion").version
            start.wait(timeout=30)  # both have read the same version before either moves
            try:
                stores.aliases.set_alias(
                    "credit", "champion", target, expected=seen, actor=f"v{target}"
                )
            except Conflict:
                return False
            finally:
                start.wait(timeout=30)  # the round is over for both before the next read
            return True

        with ThreadPoolExecutor(2) as pool:
            for _ in range(rounds):
                current = first.aliases.get_alias("credit", "champion").version
                targets = [v for v in (1, 2, 3) if v != current]
                futures = [pool.submit(move, s, t) for s, t in zip(pair, targets, strict=True)]
                wins = [f.result(timeout=120) for f in futures]
                assert sorted(wins) == [False, True]
        history = first.aliases.alias_history("credit", "champion")
        assert len(history) == 1 + rounds  # exactly one entry per round
        for before, after in itertools.pairwise(history):
            assert after.from_version == before.to_version

    def test_concurrent_retried_moves_form_a_chain(
        self, open_model_stores_again: OpenStores
    ) -> None:
        clients = [open_model_stores_again() for _ in range(2)]
        for seed in "abc":
            clients[0].models.create_version("credit", new_version(seed))
        start = threading.Barrier(len(clients))

        def move(stores: StoreSet, versions: list[int]) -> int:
            conflicts = 0
            start.wait(timeout=30)
            for version in versions:
                while True:
                    try:
                        seen = stores.aliases.get_alias("credit", "champion").version
                    except NotFound:
                        seen = None
                    try:
                        stores.aliases.set_alias(
                            "credit", "champion", version, expected=seen, actor="ana"
                        )
                        break
                    except Conflict:
                        conflicts += 1  # another move came first: read again, retry
            return conflicts

        plans = [[1, 2] * 8, [3, 2] * 8]
        with ThreadPoolExecutor(len(clients)) as pool:
            futures = [pool.submit(move, s, p) for s, p in zip(clients, plans, strict=True)]
            [f.result(timeout=120) for f in futures]
        history = clients[0].aliases.alias_history("credit", "champion")
        assert len(history) == 32
        # Each move started from where the one before it left the alias.
        assert history[0].from_version is None
        for before, after in itertools.pairwise(history):
            assert after.from_version == before.to_version
        assert clients[1].aliases.get_alias("credit", "champion").version == history[-1].to_version

    # -- governance ------------------------------------------------------
    def test_protections(self, model_stores: StoreSet) -> None:
        gov = model_stores.governance
        model_stores.models.create_version("credit", new_version())
        assert gov.list_protections("credit") == []
        t = now()
        champion = AliasProtection("credit", "champion", 2, ("auc >= 0.8", "drift"), "ana", t)
        challenger = AliasProtection("credit", "challenger", 0, (), "bob", t + 1, allow_canary=True)
        gov.set_protection(champion)
        gov.set_protection(challenger)
        assert gov.list_protections("credit") == [challenger, champion]
        replaced = AliasProtection("credit", "champion", 1, ("auc >= 0.9",), "cy", t + 2)
        gov.set_protection(replaced)
        assert gov.list_protections("credit") == [challenger, replaced]
        gov.remove_protection("credit", "challenger")
        assert gov.list_protections("credit") == [replaced]
        with pytest.raises(NotFound, match="challenger"):
            gov.remove_protection("credit", "challenger")
        with pytest.raises(NotFound, match="never"):
            gov.remove_protection("credit", "never")
        assert gov.list_protections("credit") == [replaced]
        model_stores.models.create_model("other")
        assert gov.list_protections("other") == []
        for call in (
            lambda: gov.set_protection(AliasProtection("nope", "champion", 1, (), "ana", t)),
            lambda: gov.remove_protection("nope", "champion"),
            lambda: gov.list_protections("nope"),
        ):
            with pytest.raises(NotFound, match="'nope'"):
                call()

    def test_decisions_in_order(self, model_stores: StoreSet) -> None:
        gov = model_stores.governance
        model_stores.models.create_version("credit", new_version("a"))
        model_stores.models.create_version("credit", new_version("b"))
        assert gov.list_decisions("credit", 1) == []
        t = now()
        decisions = [
            Decision("credit", 1, "bob", "approve", "looks good", t),
            Decision("credit", 1, "cy", "reject", "", t - 10),  # order is arrival, not time
            Decision("credit", 1, "bob", "approve", "fixed ✓", t),
        ]
        for d in decisions:
            gov.record_decision(d)
        gov.record_decision(Decision("credit", 2, "dee", "approve", "", t))
        assert gov.list_decisions("credit", 1) == decisions
        assert gov.list_decisions("credit", 2) == [Decision("credit", 2, "dee", "approve", "", t)]

    def test_gates_newest_first(self, model_stores: StoreSet) -> None:
        gov = model_stores.governance
        model_stores.models.create_version("credit", new_version("a"))
        model_stores.models.create_version("credit", new_version("b"))
        assert gov.list_gates("credit", 1) == []
        t = now()
        first = gate("credit", 1, False, t, run_id="r1")
        second = gate("credit", 1, True, t - 5)
        third = GateRecord("credit", 1, None, "ds@2", True, (), "ana", t)
        for g in (first, second, third):
            gov.record_gate(g)
        gov.record_gate(gate("credit", 2, True, t))
        found = gov.list_gates("credit", 1)
        assert found == [third, second, first]
        assert found[2].rules == first.rules and found[2].details == first.details
        assert isinstance(found[0].passed, bool) and found[2].passed is False
        assert (found[2].run_id, found[0].against, dict(found[0].details)) == ("r1", None, {})
        assert len(gov.list_gates("credit", 2)) == 1

    def test_evaluations_newest_first(self, model_stores: StoreSet) -> None:
        gov = model_stores.governance
        model_stores.models.create_version("credit", new_version("a"))
        model_stores.models.create_version("credit", new_version("b"))
        assert gov.list_evaluations("credit", 1) == []
        t = now()
        first = EvaluationRecord("credit", 1, "ds@1", {"auc": 0.9, "n": 10}, "ci", t, "r1")
        second = EvaluationRecord(
            "credit", 1, "ds@2", {"auc": 0.95, "by_slice": {"a": [1, 2]}}, "ana", t - 5
        )
        for e in (first, second):
            gov.record_evaluation(e)
        gov.record_evaluation(EvaluationRecord("credit", 2, "ds@1", {}, "ci", t))
        assert gov.list_evaluations("credit", 1) == [second, first]
        assert gov.list_evaluations("credit", 2) == [
            EvaluationRecord("credit", 2, "ds@1", {}, "ci", t)
        ]

    def test_governance_of_unknown_versions(self, model_stores: StoreSet) -> None:
        gov = model_stores.governance
        model_stores.models.create_version("credit", new_version())
        t = now()
        for name, version, pattern in (("nope", 1, "'nope'"), ("credit", 2, r"'credit'.*2")):
            with pytest.raises(NotFound, match=pattern):
                gov.record_decision(Decision(name, version, "bob", "approve", "", t))
            with pytest.raises(NotFound, match=pattern):
                gov.list_decisions(name, version)
            with pytest.raises(NotFound, match=pattern):
                gov.record_gate(gate(name, version, True, t))
            with pytest.raises(NotFound, match=pattern):
                gov.list_gates(name, version)
            with pytest.raises(NotFound, match=pattern):
                gov.record_evaluation(EvaluationRecord(name, version, "d", {}, "ci", t))
            with pytest.raises(NotFound, match=pattern):
                gov.list_evaluations(name, version)
        assert gov.list_decisions("credit", 1) == []
        assert gov.list_gates("credit", 1) == []
        assert gov.list_evaluations("credit", 1) == []

    def test_delete_version_takes_its_governance(
        self, model_stores: StoreSet, model_store_uri: str
    ) -> None:
        models, gov = model_stores.models, model_stores.governance
        models.create_version("credit", new_version("a"))
        t = now()
        gov.record_decision(Decision("credit", 1, "bob", "approve", "", t))
        gov.record_gate(gate("credit", 1, True, t))
        gov.record_evaluation(EvaluationRecord("credit", 1, "d", {}, "ci", t))
        untouched = row_counts(model_store_uri)
        models.create_version("credit", new_version("b", files=(ModelFile("m", "f" * 64, 1),)))
        model_stores.aliases.set_alias("credit", "champion", 2, expected=None, actor="ana")
        gov.record_decision(Decision("credit", 2, "bob", "approve", "", t))
        gov.record_gate(gate("credit", 2, True, t))
        gov.record_evaluation(EvaluationRecord("credit", 2, "d", {}, "ci", t))
        models.delete_version("credit", 2)
        counts = row_counts(model_store_uri)
        assert counts.pop("model_alias_history") == 1  # the history outlives the version
        assert counts == {n: c for n, c in untouched.items() if n != "model_alias_history"}
        with pytest.raises(NotFound):
            gov.list_decisions("credit", 2)
        assert len(gov.list_decisions("credit", 1)) == 1
        assert len(gov.list_gates("credit", 1)) == 1
        assert len(gov.list_evaluations("credit", 1)) == 1

    # -- keys ------------------------------------------------------------
    def test_keys(self, model_stores: StoreSet) -> None:
        keys = model_stores.keys
        assert keys.list_keys() == []
        t = now()
        first = SigningKey("k1", "cHVibGljMQ==", "ana", t - 10)
        second = SigningKey("k2", "cHVibGljMg==", "bob", t)
        keys.add_key(second)
        keys.add_key(first)
        assert keys.list_keys() == [first, second]  # oldest first
        with pytest.raises(AlreadyExists, match="k1"):
            keys.add_key(SigningKey("k1", "b3RoZXI=", "eve", t))
        assert keys.list_keys() == [first, second]

        before = now()
        revoked = keys.revoke_key("k1")
        assert revoked.revoked_time is not None and before <= revoked.revoked_time <= now()
        assert revoked == SigningKey("k1", "cHVibGljMQ==", "ana", t - 10, revoked.revoked_time)
        assert keys.list_keys() == [second]
        assert keys.list_keys(include_revoked=True) == [revoked, second]
        assert keys.revoke_key("k1") == revoked  # revoking again keeps the first revocation
        with pytest.raises(AlreadyExists):
            keys.add_key(first)  # a revoked key cannot come back under its id
        with pytest.raises(NotFound, match="k9"):
            keys.revoke_key("k9")
        assert keys.list_keys(include_revoked=True) == [revoked, second]

    def test_add_revoked_key(self, model_stores: StoreSet) -> None:
        t = now()
        key = SigningKey("old", "cHVi", "ana", t - 100, revoked_time=t - 50)
        model_stores.keys.add_key(key)
        assert model_stores.keys.list_keys() == []
        assert model_stores.keys.list_keys(include_revoked=True) == [key]
