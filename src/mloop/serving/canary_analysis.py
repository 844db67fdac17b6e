"""Judging a canary against its primary on the live traffic of the prediction log.

:func:`judge` reads what each version answered since the deployment's latest
change (requests, failures, latency, predictions and, once they arrive,
feedback labels) and decides, as its :class:`~mloop.serving.canary_policy.CanaryPolicy`
says: ``wait`` for more traffic, ``step`` the share up, ``promote``, ``hold``
at the last step, or ``abort`` (take the canary out). Nothing here writes:
:mod:`mloop.serving.canary_decisions` applies a verdict.

Example:
    >>> import pandas as pd
    >>> rows = [("1", 200, 0.002, [0]), ("2", 500, 0.002, None)] * 60
    >>> log = pd.DataFrame(rows, columns=["version", "status", "latency_seconds", "outputs"])
    >>> log["model"] = "credit"
    >>> verdict = judge(CanaryPolicy(min_requests=50, min_seconds=0), 10, log,
    ...                 ("credit", "1"), ("credit", "2"), since=0.0, now=60.0)
    >>> verdict.decision, [c.name for c in verdict.checks if not c.passed]
    ('abort', ['error_rate'])
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mloop.serving.canary_policy import CanaryPolicy

if TYPE_CHECKING:
    import pandas as pd

# Fewer primary requests than this give no baseline: the canary is held to absolute limits.
_BASELINE = 10
# At most this many distinct integer or text answers are classes; more are numbers.
_CLASSES = 20


@dataclasses.dataclass(frozen=True)
class Side:
    """What one version did in the window."""

    model: str
    version: str
    requests: int = 0
    errors: int = 0
    p99_ms: float | None = None
    labelled: int = 0
    metric: float | None = None

    @property
    def error_rate(self) -> float:
        """Failed requests over all requests (0 with none)."""
        return self.errors / self.requests if self.requests else 0.0


@dataclasses.dataclass(frozen=True)
class Check:
    """One comparison: its measured value, the limit it is held to, passed or not."""

    name: str
    passed: bool
    value: float | None
    limit: float
    detail: str


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What a canary analysis decided, and everything it measured to decide it."""

    decision: str  # wait, step, promote, hold, abort
    reason: str
    percent: int
    to_percent: int | None = None
    primary: Side | None = None
    canary: Side | None = None
    checks: tuple[Check, ...] = ()
    since: float = 0.0
    seconds: float = 0.0

    def evidence(self) -> dict[str, Any]:
        """The verdict as plain values, as the deployment's history keeps it."""
        return {
            "decision": self.decision,
            "reason": self.reason,
            "percent": self.percent,
            "to_percent": self.to_percent,
            "window_seconds": round(self.seconds, 3),
            "primary": None if self.primary is None else _side(self.primary),
            "canary": None if self.canary is None else _side(self.canary),
            "checks": [_finite(dataclasses.asdict(check)) for check in self.checks],
        }


def _side(side: Side) -> dict[str, Any]:
    values = dataclasses.asdict(side)
    values["error_rate"] = round(side.error_rate, 6)
    return _finite(values)


def _finite(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with NaN and infinities as None: JSON has neither."""
    return {
        key: None if isinstance(value, float) and not math.isfinite(value) else value
        for key, value in values.items()
    }


def judge(
    policy: CanaryPolicy,
    percent: int,
    log: pd.DataFrame,
    primary: tuple[str, str],
    canary: tuple[str, str],
    *,
    since: float,
    now: float,
) -> Verdict:
    """Decide on a canary at ``percent`` from ``log``: the deployment's predictions since ``since``.

    ``primary`` and ``canary`` are the (model, version) each answers with now;
    ``log`` has the columns :func:`mloop.serving.predictions` gives (``label``
    only when feedback is read).
    """
    seconds = max(0.0, now - since)
    if percent == 0:
        first = policy.steps[0]
        return Verdict("step", f"the canary starts at {first}%", 0, first, seconds=seconds)
    old, new = _rows(log, primary), _rows(log, canary)
    base, trial = _measure(old, primary, policy), _measure(new, canary, policy)
    window = Verdict("wait", "", percent, primary=base, canary=trial, since=since, seconds=seconds)
    if trial.requests < policy.min_requests or seconds < policy.min_seconds:
        return dataclasses.replace(
            window,
            reason=f"the canary has answered {trial.requests} of {policy.min_requests} "
            f"requests in {seconds:.0f} of {policy.min_seconds:.0f} s",
        )
    before, after = _answers(old), _answers(new)
    checks = [
        _error_check(policy, base, trial),
        _invalid_check(policy, before, after),
        _latency_check(policy, base, trial),
        _shift_check(policy, _valid(before), _valid(after)),
    ]
    if policy.metric is not None:
        metric = _metric_check(policy, base, trial)
        if metric is not None:
            checks.append(metric)
    window = dataclasses.replace(window, checks=tuple(checks))
    failed = [check for check in checks if not check.passed]
    if failed:
        reason = "; ".join(check.detail for check in failed)
        return dataclasses.replace(window, decision="abort", reason=reason)
    if policy.metric is not None and len(checks) < 5:
        labelled = min(base.labelled, trial.labelled)
        return dataclasses.replace(
            window,
            reason=f"the checks pass; {labelled} of {policy.min_labels} labelled requests "
            f"for {policy.metric}",
        )
    later = policy.next_step(percent)
    if later is not None:
        return dataclasses.replace(
            window, decision="step", reason=f"every check passed at {percent}%", to_percent=later
        )
    if policy.promote:
        reason = f"every check passed at the last step ({percent}%)"
        return dataclasses.replace(window, decision="promote", reason=reason)
    reason = f"every check passed at the last step ({percent}%): promote it when you choose"
    return dataclasses.replace(window, decision="hold", reason=reason)


def _rows(log: pd.DataFrame, version: tuple[str, str]) -> pd.DataFrame:
    """The version's requests that the routing chose it for (not those that named it)."""
    if len(log) == 0:
        return log
    chosen = (log["model"] == version[0]) & (log["version"].astype(str) == version[1])
    if "role" in log:
        chosen &= log["role"].fillna("") != "direct"
    return log[chosen]


def _measure(rows: pd.DataFrame, version: tuple[str, str], policy: CanaryPolicy) -> Side:
    import numpy as np

    if len(rows) == 0:
        return Side(*version)
    ok = rows["status"].fillna(200).astype(int) == 200
    latencies = rows.loc[ok, "latency_seconds"].to_numpy(dtype=float)
    p99 = float(np.percentile(latencies, 99)) * 1000 if len(latencies) else None
    labelled, metric = 0, None
    if policy.metric is not None and "label" in rows:
        pairs = [
            (answer, label)
            for answer, label, good in zip(rows["outputs"], rows["label"], ok, strict=True)
            if good and label is not None and not _missing(label)
        ]
        labelled = len(pairs)
        if pairs:
            metric = _metric(policy.metric, pairs)
    return Side(
        version[0],
        version[1],
        requests=len(rows),
        errors=int((~ok).sum()),
        p99_ms=None if p99 is None else round(p99, 3),
        labelled=labelled,
        metric=None if metric is None else round(metric, 6),
    )


def _missing(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _error_check(policy: CanaryPolicy, base: Side, trial: Side) -> Check:
    limit = policy.max_error_rate_increase
    baseline = base.error_rate if base.requests >= _BASELINE else 0.0
    increase = trial.error_rate - baseline
    return Check(
        "error_rate",
        increase <= limit,
        round(increase, 6),
        limit,
        f"error rate {trial.error_rate:.2%} against the primary's {baseline:.2%} "
        f"(at most {limit:.2%} more)",
    )


def _latency_check(policy: CanaryPolicy, base: Side, trial: Side) -> Check:
    ratio = policy.max_latency_ratio
    if trial.p99_ms is None or base.p99_ms is None or base.requests < _BASELINE:
        return Check("latency_p99", True, None, ratio, "no latency to compare")
    limit_ms = base.p99_ms * ratio + policy.latency_grace_ms
    return Check(
        "latency_p99",
        trial.p99_ms <= limit_ms,
        round(trial.p99_ms / base.p99_ms, 3) if base.p99_ms else None,
        ratio,
        f"p99 {trial.p99_ms:.1f} ms against the primary's {base.p99_ms:.1f} ms "
        f"(at most {limit_ms:.1f} ms)",
    )


def _answers(rows: pd.DataFrame) -> list[Any]:
    """Every single prediction the rows hold, flattened (the first column of a table)."""
    values: list[Any] = []
    for outputs in rows["outputs"] if len(rows) else []:
        values.extend(_flat(outputs))
    return values


def _flat(outputs: Any) -> list[Any]:
    if isinstance(outputs, dict):
        outputs = next(iter(outputs.values()), [])
    if not isinstance(outputs, list):
        return [] if outputs is None else [outputs]
    flat: list[Any] = []
    for item in outputs:
        if isinstance(item, list):
            flat.extend(item[:1])  # a row of several outputs: its first
        elif isinstance(item, dict):
            flat.extend(list(item.values())[:1])
        else:
            flat.append(item)
    return flat


def _is_invalid(value: Any) -> bool:
    """A prediction that is none: null, NaN or infinite."""
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _valid(values: list[Any]) -> list[Any]:
    return [value for value in values if not _is_invalid(value)]


def _invalid_check(policy: CanaryPolicy, reference: list[Any], current: list[Any]) -> Check:
    """A canary that answers with no prediction (null, NaN, infinite) more often fails."""
    limit = policy.max_error_rate_increase

    def share(values: list[Any]) -> float:
        return sum(map(_is_invalid, values)) / len(values) if values else 0.0

    baseline = share(reference) if len(reference) >= _BASELINE else 0.0
    increase = share(current) - baseline
    return Check(
        "invalid_predictions",
        increase <= limit,
        round(increase, 6),
        limit,
        f"{share(current):.2%} of the canary's predictions are null, NaN or infinite, "
        f"against the primary's {baseline:.2%} (at most {limit:.2%} more)",
    )


def _is_classes(values: Sequence[Any]) -> bool:
    """Integers, booleans or texts, of a few distinct values; any text makes classes."""
    if any(isinstance(v, str) for v in values):
        return True
    kinds = all(isinstance(v, int) for v in values)  # bool is an int
    return kinds and len(set(values)) <= _CLASSES


@dataclasses.dataclass(frozen=True)
class Shift:
    """How far one distribution of predictions is from another, and how sure that is.

    ``distance`` is Jensen-Shannon (0 to 1) for classes, and Wasserstein over
    the reference's standard deviation for numbers; ``p_value`` is the chance
    of a difference this large between two samples of one distribution
    (chi-square for classes, Kolmogorov-Smirnov for numbers).
    """

    distance: float
    p_value: float
    measure: str


def shift(reference: Sequence[Any], current: Sequence[Any]) -> Shift:
    """How far ``current``'s distribution is from ``reference``'s.

    Classes (a few distinct integers or texts) are compared by their shares;
    numbers by their whole distributions.

    Example:
        >>> shift([0, 1] * 50, [0, 1] * 50)
        Shift(distance=0.0, p_value=1.0, measure='jensen-shannon')
        >>> moved = shift([0.0, 1.0] * 50, [0.5, 1.5] * 50)
        >>> round(moved.distance, 2), moved.p_value < 0.001
        (1.0, True)
    """
    import numpy as np
    from scipy.spatial.distance import jensenshannon  # type: ignore[import-untyped]
    from scipy.stats import (  # type: ignore[import-untyped]
        chi2_contingency,
        ks_2samp,
        wasserstein_distance,
    )

    if _is_classes([*reference, *current]):
        p, q = _class_counts(reference, current)
        distance = float(jensenshannon(p / p.sum(), q / q.sum(), base=2))
        p_value = 1.0 if len(p) < 2 else float(chi2_contingency(np.stack([p, q])).pvalue)
        return Shift(round(distance, 6), p_value, "jensen-shannon")
    ref = np.asarray(reference, dtype=float)
    cur = np.asarray(current, dtype=float)
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    spread = float(np.std(ref)) or float(np.mean(np.abs(ref))) or 1.0
    distance = float(wasserstein_distance(ref, cur)) / spread
    return Shift(round(distance, 6), float(ks_2samp(ref, cur).pvalue), "wasserstein")


def _class_counts(reference: Sequence[Any], current: Sequence[Any]) -> tuple[Any, Any]:
    """Both sides' counts of each class: the most common ones, the rest as one."""
    import collections

    import numpy as np

    together = collections.Counter(map(str, [*reference, *current]))
    kept = [name for name, _ in together.most_common(_CLASSES)]
    index = {name: n for n, name in enumerate(kept)}
    p = np.zeros(len(kept) + 1)
    q = np.zeros(len(kept) + 1)
    for counts, values in ((p, reference), (q, current)):
        for value in values:
            counts[index.get(str(value), len(kept))] += 1
    if not p[-1] and not q[-1]:  # no other classes: no empty column
        p, q = p[:-1], q[:-1]
    return p, q


def _shift_check(policy: CanaryPolicy, reference: list[Any], current: list[Any]) -> Check:
    limit = policy.max_shift
    if len(reference) < _BASELINE:
        return Check("prediction_shift", True, None, limit, "no primary predictions to compare")
    if not current:  # its failures and empty answers are the other checks' to judge
        return Check("prediction_shift", True, None, limit, "no canary predictions to compare")
    try:
        moved = shift(reference, current)
    except (TypeError, ValueError) as err:
        return Check(
            "prediction_shift",
            False,
            None,
            limit,
            f"the canary's predictions cannot be compared with the primary's ({err})",
        )
    # Both large and sure: a few requests differ by chance, many differ by a hair.
    passed = moved.distance <= limit or moved.p_value >= policy.shift_significance
    return Check(
        "prediction_shift",
        passed,
        moved.distance,
        limit,
        f"prediction shift {moved.distance:.3f} ({moved.measure}, p = {moved.p_value:.2g}) "
        f"against the primary (at most {limit}, or not significant at "
        f"{policy.shift_significance})",
    )


def _metric(name: str, pairs: list[tuple[Any, Any]]) -> float | None:
    import numpy as np

    answers: list[Any] = []
    labels: list[Any] = []
    for outputs, label in pairs:
        got, want = _flat(outputs), _flat(label)
        if len(got) == len(want):
            for answer, truth in zip(got, want, strict=True):
                if not (_is_invalid(answer) or _is_invalid(truth)):  # a null is no evidence
                    answers.append(answer)
                    labels.append(truth)
    if not answers:
        return None
    if name == "accuracy":
        return float(np.mean([a == b for a, b in zip(answers, labels, strict=True)]))
    try:
        errors = np.asarray(answers, dtype=float) - np.asarray(labels, dtype=float)
    except (TypeError, ValueError):
        return None
    if name == "mae":
        return float(np.mean(np.abs(errors)))
    return float(np.sqrt(np.mean(errors**2)))


def _metric_check(policy: CanaryPolicy, base: Side, trial: Side) -> Check | None:
    """The metric's comparison, or None until both versions have enough labels."""
    name, limit = policy.metric, policy.max_metric_regression
    if min(base.labelled, trial.labelled) < policy.min_labels:
        return None
    if base.metric is None or trial.metric is None:
        return Check(name or "metric", True, None, limit, "labels that do not fit the answers")
    worse = base.metric - trial.metric if name == "accuracy" else trial.metric - base.metric
    regression = worse / abs(base.metric) if base.metric else (1.0 if worse > 0 else 0.0)
    return Check(
        name or "metric",
        regression <= limit,
        round(regression, 6),
        limit,
        f"{name} {trial.metric:.4g} against the primary's {base.metric:.4g} "
        f"(at most {limit:.0%} worse)",
    )
