"""A deployment's canary analysis policy: the steps of the canary's share and what it must pass.

At each step the canary takes its share of live traffic until it has
answered ``min_requests`` requests and ``min_seconds`` have passed since the
step began; then it is compared with the primary on the same window:

- error rate: the canary's share of failed requests may exceed the
  primary's by at most ``max_error_rate_increase`` (absolute);
- latency: the canary's p99 may be at most ``max_latency_ratio`` times the
  primary's, plus ``latency_grace_ms`` (so a 2 ms against 1 ms p99 is no alarm);
- prediction shift: the distance between the two versions' prediction
  distributions may be at most ``max_shift`` (Jensen-Shannon distance for
  classes, Wasserstein distance over the primary's spread for numbers); a
  larger one fails only when it is also significant (its p-value, from a
  chi-square or Kolmogorov-Smirnov test, below ``shift_significance``), so a
  few requests that differ by chance do not take a good canary out (0.01: a
  canary judged at four steps is taken out by chance about 4% of the time);
- the model metric, once ``min_labels`` requests of each version have
  feedback labels: ``accuracy`` may drop, or ``mae``/``rmse`` grow, by at most
  ``max_metric_regression`` (a fraction of the primary's).

Passing raises the share to the next step; passing the last step promotes
the canary (``promote=False`` holds it there for a person to promote). Failing
any check takes the canary out. Every such decision is recorded in the
deployment's history with its evidence.

Example:
    >>> policy = CanaryPolicy(steps=(10, 50), min_requests=200)
    >>> CanaryPolicy.from_mapping(policy.to_mapping()) == policy
    True
    >>> CanaryPolicy(steps=(50, 10))
    Traceback (most recent call last):
    ...
    mloop.errors.InvalidInput: steps must rise from 1 to 99 percent, e.g. 10,25,50; got (50, 10)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from mloop.errors import InvalidInput

METRICS = ("accuracy", "mae", "rmse")


@dataclasses.dataclass(frozen=True)
class CanaryPolicy:
    """When and how a canary is judged; see the module's text for each check."""

    steps: tuple[int, ...] = (10, 25, 50)
    min_requests: int = 100
    min_seconds: float = 30.0
    max_error_rate_increase: float = 0.01
    max_latency_ratio: float = 1.5
    latency_grace_ms: float = 5.0
    max_shift: float = 0.1
    shift_significance: float = 0.01
    metric: str | None = None
    min_labels: int = 50
    max_metric_regression: float = 0.02
    promote: bool = True
    interval_seconds: float = 10.0

    def __post_init__(self) -> None:
        steps = self.steps
        if (
            not isinstance(steps, tuple)
            or not steps
            or any(isinstance(s, bool) or not isinstance(s, int) for s in steps)
            or list(steps) != sorted(set(steps))
            or steps[0] < 1
            or steps[-1] > 99
        ):
            raise InvalidInput(
                f"steps must rise from 1 to 99 percent, e.g. 10,25,50; got {steps!r}"
            )
        for name in ("min_requests", "min_labels"):
            _check_number(name, getattr(self, name), minimum=1, whole=True)
        for name in ("min_seconds", "latency_grace_ms"):
            _check_number(name, getattr(self, name), minimum=0)
        _check_number("max_error_rate_increase", self.max_error_rate_increase, 0, 1)
        _check_number("max_latency_ratio", self.max_latency_ratio, minimum=1)
        _check_number("max_shift", self.max_shift, 0, 1)
        _check_number("shift_significance", self.shift_significance, 0, 1)
        _check_number("max_metric_regression", self.max_metric_regression, 0, 1)
        _check_number("interval_seconds", self.interval_seconds, minimum=0.05)
        if self.metric is not None and self.metric not in METRICS:
            raise InvalidInput(
                f"metric must be one of {', '.join(METRICS)} (or none), got {self.metric!r}"
            )
        if not isinstance(self.promote, bool):
            raise InvalidInput(f"promote must be true or false, got {self.promote!r}")

    def to_mapping(self) -> dict[str, Any]:
        """Plain values, as a deployment stores them."""
        values = dataclasses.asdict(self)
        values["steps"] = list(self.steps)
        return values

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> CanaryPolicy:
        """The policy stored as ``values``.

        Raises:
            InvalidInput: an unknown setting or a bad value.
        """
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InvalidInput(
                f"unknown canary policy setting(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        given = dict(values)
        if "steps" in given and isinstance(given["steps"], list):
            given["steps"] = tuple(given["steps"])
        return cls(**given)

    def next_step(self, percent: int) -> int | None:
        """The share after ``percent``, or None when ``percent`` is the last step (or past it).

        Example:
            >>> policy = CanaryPolicy(steps=(10, 25))
            >>> policy.next_step(10), policy.next_step(25)
            (25, None)
        """
        later = [step for step in self.steps if step > percent]
        return later[0] if later else None


def _check_number(
    name: str, value: object, minimum: float, maximum: float | None = None, *, whole: bool = False
) -> None:
    kinds = (int,) if whole else (int, float)
    fits = (
        not isinstance(value, bool)
        and isinstance(value, kinds)
        and value >= minimum
        and (maximum is None or value <= maximum)
    )
    if not fits:
        kind = "a whole number" if whole else "a number"
        bound = f"from {minimum} to {maximum}" if maximum is not None else f">= {minimum}"
        raise InvalidInput(f"{name} must be {kind} {bound}, got {value!r}")
