"""Hostile filters get a clear limit, and the largest accepted filter runs (issue 10, item 17)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mloop.errors import FilterSyntaxError
from mloop.store.filter import MAX_COMPARISONS, MAX_IN_VALUES, MAX_NESTING, parse_filter
from mloop.store.protocols.tracking import Batch
from mloop.store.set import StoreSet
from mloop.store.sql import open_sql_store_set

M = "metrics.m > 0"


def _shapes() -> dict[str, str]:
    """Filters at both limits at once, each in a shape that loads a SQL parser differently."""
    levels = MAX_NESTING

    def chain(n: int) -> str:
        return " OR ".join([M] * n)

    # groups, each behind a pending OR and AND (the deepest parser stack per level)
    used = 2 * levels
    pending = f"{M} OR {M} AND (" * levels + chain(MAX_COMPARISONS - used) + ")" * levels
    # NOTs and groups alternating, each behind a pending OR
    half = levels // 2
    used = half
    not_groups = f"{M} OR NOT (" * half + chain(MAX_COMPARISONS - used) + ")" * half
    # a NOT and a group per two levels, each behind a pending OR and AND
    used = 2 * half
    pending_not = f"{M} OR {M} AND NOT (" * half + chain(MAX_COMPARISONS - used) + ")" * half
    # bare NOTs at the end of the longest chain
    chain_first = chain(MAX_COMPARISONS - 1) + " OR " + "NOT " * levels + M
    # groups alternating AND / OR on the right of each level
    alternating = M
    for i in range(levels):
        alternating = f"{M} {'OR' if i % 2 else 'AND'} ({alternating})"
    alternating = chain(MAX_COMPARISONS - levels - 1) + " AND " + alternating
    values = ", ".join(str(i) for i in range(MAX_IN_VALUES - 1))
    in_list = f"metrics.m IN ({values}, 1) OR " + chain(MAX_COMPARISONS - 1)
    return {
        "pending": pending,
        "not_groups": not_groups,
        "pending_not": pending_not,
        "chain_first": chain_first,
        "alternating": alternating,
        "in_list": in_list,
        "one_long_chain": chain(MAX_COMPARISONS),
    }


def _depth_and_terms(text: str) -> None:
    # The shapes really sit at the limits: one more comparison or level is refused.
    assert parse_filter(text) is not None
    with pytest.raises(FilterSyntaxError):
        parse_filter(text + f" OR {M}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreSet]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/mloop.db"
    else:
        url = request.getfixturevalue("postgres_store")
    opened = open_sql_store_set(url)
    yield opened
    opened.close()


def test_largest_accepted_filters_run(stores: StoreSet) -> None:
    exp = stores.experiments.create_experiment(f"limits-{uuid.uuid4().hex}")
    run = stores.runs.create_run(exp, "r", 1, {})
    stores.runs.write_batch(Batch(metrics=[(run.run_id, "m", 1.0, 1, 0)]))
    for name, text in _shapes().items():
        _depth_and_terms(text)
        found = stores.runs.search_runs([exp], text)
        assert [r.info.run_id for r in found] == [run.run_id], name


@pytest.mark.parametrize(
    "text",
    [
        "(" * 5000 + M + ")" * 5000,
        "NOT " * 5000 + M,
        "(" * (MAX_NESTING + 1) + M + ")" * (MAX_NESTING + 1),
        "NOT " * (MAX_NESTING + 1) + M,
    ],
    ids=["5000-groups", "5000-nots", "one-group-too-many", "one-not-too-many"],
)
def test_deep_filters_are_refused_with_a_position(text: str) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse_filter(text)
    message = str(caught.value)
    assert f"nest more than {MAX_NESTING} deep" in message
    assert "IN (" in message
    assert caught.value.position == (2 if text.startswith("(") else 4) * MAX_NESTING // (
        2 if text.startswith("(") else 1
    )


def test_too_many_comparisons_suggest_in(stores: StoreSet) -> None:
    text = " OR ".join(f"run_id = 'r{i}'" for i in range(990))
    with pytest.raises(FilterSyntaxError) as caught:
        stores.runs.search_runs(["1"], text)
    message = str(caught.value)
    assert f"more than {MAX_COMPARISONS} comparisons" in message
    assert "IN (" in message
    assert caught.value.position == text.index(f"run_id = 'r{MAX_COMPARISONS}'")


def test_too_many_in_values() -> None:
    values = ", ".join(str(i) for i in range(MAX_IN_VALUES + 1))
    with pytest.raises(FilterSyntaxError, match="IN lists hold more than"):
        parse_filter(f"metrics.m IN ({values})")
