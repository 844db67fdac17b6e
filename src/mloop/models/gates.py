"""Evaluation gates: a candidate judged against a baseline on the same data, by rules.

Example:
    >>> import mloop, pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> data = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0] * 5, "label": [0, 0, 1, 1] * 5})
    >>> model = LogisticRegression().fit(data[["x"]], data["label"])
    >>> with mloop.start_run():
    ...     _ = mloop.models.log_model(model, input_example=data[["x"]][:2],
    ...                                registered_model_name="gated")
    >>> result = mloop.models.gate("gated/1", against="gated@champion", data=data,
    ...                            targets="label", rules=["accuracy >= 0.9",
    ...                            "accuracy >= champion.accuracy"])
    >>> [(r["rule"], r["passed"]) for r in result.rules]
    [('accuracy >= 0.9', True), ('accuracy >= champion.accuracy', True)]
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Sequence
from typing import Any

from mloop.context.context import Context
from mloop.entities import GateRecord, ModelVersion
from mloop.errors import InvalidInput, NotFound
from mloop.models.api import load
from mloop.models.backend import ModelBackend, backend
from mloop.models.evaluation import EvaluationResult, keep_evaluation, load_frame, measure
from mloop.models.fetch import resolve_version
from mloop.models.rules import parse_rule
from mloop.models.uris import ModelUri, parse_version_ref
from mloop.tracking import fluent


@dataclasses.dataclass(frozen=True)
class GateResult:
    """A gate's verdict: each rule's outcome and the two evaluations behind them."""

    candidate: ModelVersion
    baseline: ModelVersion | None
    against: str | None
    passed: bool
    rules: list[dict[str, Any]]
    candidate_evaluation: EvaluationResult
    baseline_evaluation: EvaluationResult | None
    data: str


def _baseline(reference: str | None, be: ModelBackend) -> tuple[ModelVersion | None, set[str]]:
    """The baseline version (None when its alias is not set yet) and the names rules may use."""
    names = {"baseline", "champion"}
    if reference is None:
        return None, names
    parsed: ModelUri = parse_version_ref(reference)
    if parsed.alias is not None:
        names.add(parsed.alias)
    try:
        return resolve_version(be, parsed), names
    except NotFound:
        if parsed.alias is None:
            raise
        be.stores.models.get_model(parsed.name)  # the model itself must exist
        return None, names


def _targets(targets: str | None, target: str | None) -> str:
    """The label column, from ``targets`` or the older ``target``."""
    if target is not None:
        if targets is not None:
            raise InvalidInput("pass the label column as targets= only (target= is its old name)")
        warnings.warn(
            "gate(target=...) is deprecated; pass targets=..., as mloop.evaluate takes it",
            DeprecationWarning,
            stacklevel=3,
        )
        return target
    if targets is None:
        raise InvalidInput("a gate needs targets=, the label column of the data")
    return targets


def gate(
    candidate: str,
    *,
    data: Any,
    targets: str | None = None,
    rules: Sequence[str],
    against: str | None = None,
    task: str | None = None,
    slices: Sequence[str] = (),
    sensitive: Sequence[str] = (),
    context: Context | None = None,
    target: str | None = None,
) -> GateResult:
    """Evaluate ``candidate`` (and ``against``) on ``data`` and judge it by ``rules``.

    ``candidate`` and ``against`` are registered versions: ``NAME/3``,
    ``NAME@challenger``. In rules, a bare metric is the candidate's and
    ``champion.<metric>`` (or ``baseline.`` or the alias of ``against``) the
    baseline's. When ``against`` names an alias that is not set yet (the
    first model), rules that compare with it are skipped, and say so. The
    result is recorded on the candidate version (protected aliases ask for
    it) and, inside a run, logged to it. ``targets`` names the label column,
    as in :func:`mloop.evaluate` (``target=`` still works, with a
    DeprecationWarning).

    Raises:
        InvalidInput: no rules, a malformed rule, a metric the evaluation lacks, bad data.
        NotFound: no such candidate or baseline version.
    """
    targets = _targets(targets, target)
    if isinstance(rules, str):
        rules = [rules]
    if not rules:
        raise InvalidInput("a gate needs at least one rule, e.g. 'roc_auc >= 0.8'")
    be = backend(context)
    version = resolve_version(be, parse_version_ref(candidate))
    baseline, names = _baseline(against, be)
    parsed = [parse_rule(r, names) for r in rules]
    frame, where = load_frame(data)
    options: dict[str, Any] = {"targets": targets, "task": task, "data": where}
    ours = measure(
        load(version), frame, slices=slices, sensitive=sensitive, uri=version.uri, **options
    )
    theirs = None
    if baseline is not None:
        options["task"] = ours.task
        theirs = measure(
            load(baseline),
            frame,
            sensitive=sensitive,
            importance=False,
            uri=baseline.uri,
            **options,
        )
    outcomes = [r.check(ours.metrics, theirs.metrics if theirs else None) for r in parsed]
    passed = all(o["passed"] for o in outcomes)
    _record(be, version, baseline, against, where, passed, outcomes, ours, theirs)
    return GateResult(version, baseline, against, passed, outcomes, ours, theirs, where)


def _record(
    be: ModelBackend,
    version: ModelVersion,
    baseline: ModelVersion | None,
    against: str | None,
    where: str,
    passed: bool,
    outcomes: list[dict[str, Any]],
    ours: EvaluationResult,
    theirs: EvaluationResult | None,
) -> None:
    actor = be.actor
    now = time.time_ns() // 1_000_000
    active = fluent.active_run()
    run_id = active.info.run_id if active else None
    details = {
        "against_version": baseline.version if baseline else None,
        "baseline": baseline.ref if baseline else None,
        "candidate_metrics": ours.metrics,
        "baseline_metrics": theirs.metrics if theirs else None,
    }
    be.stores.governance.record_gate(
        GateRecord(
            version.name,
            version.version,
            against,
            where,
            passed,
            tuple(outcomes),
            actor,
            now,
            run_id,
            details,
        )
    )
    keep_evaluation(version, ours)
    if active is not None:
        fluent.log_dict(
            {"passed": passed, "rules": outcomes, **details},
            f"gates/{version.name}-{version.version}.json",
        )
        fluent.set_tag(f"mloop.gate.{version.name}", "passed" if passed else "failed")
