"""``mloop.tune``: hyperparameter search on Optuna, every trial a tracked run.

The search runs under a parent run (the active run, for example a pipeline
step, or a new one): each trial is a nested run with its params, its
intermediate values as a metric series, its objective value and its state;
the best trial is recorded on the parent. Trials run one after another here,
or in parallel as Ray tasks, sharing the study through Optuna storage (a
journal file under the mloop home by default; pass ``storage=`` with a
database URL for a cluster).

Example:
    >>> import mloop
    >>> result = mloop.tune(lambda t: (t.params["x"] - 2) ** 2, {"x": (-5.0, 5.0)},
    ...                     n_trials=20, sampler="tpe", seed=1)     # doctest: +SKIP
    >>> round(result.best_params["x"])                              # doctest: +SKIP
    2
"""

from __future__ import annotations

import dataclasses
import math
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mloop.config import Settings
from mloop.entities import RunStatus
from mloop.errors import InvalidInput, MissingExtra
from mloop.pipelines.tasks import worker_client, worker_settings
from mloop.tracking import fluent

DIRECTIONS = ("minimize", "maximize")


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise MissingExtra("mloop.tune", extra="tune") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def distributions(space: Mapping[str, Any]) -> dict[str, Any]:
    """Optuna distributions for a search space.

    Each value is an Optuna distribution, a list of choices, a ``(low, high)``
    pair (ints give an integer range, floats a float range), or a dict
    ``{"low": …, "high": …, "log": bool, "step": …}``.

    Raises:
        InvalidInput: a value that is none of these, or an empty range.
    """
    optuna = _optuna()
    found: dict[str, Any] = {}
    for name, spec in space.items():
        if isinstance(spec, optuna.distributions.BaseDistribution):
            found[name] = spec
            continue
        if isinstance(spec, list):
            if not spec:
                raise InvalidInput(f"search space {name!r}: no choices")
            found[name] = optuna.distributions.CategoricalDistribution(spec)
            continue
        if isinstance(spec, tuple) and len(spec) == 2:
            spec = {"low": spec[0], "high": spec[1]}
        if not isinstance(spec, dict) or not {"low", "high"} <= set(spec):
            raise InvalidInput(
                f"search space {name!r}: expected a list of choices, (low, high), "
                f"a dict with low and high, or an Optuna distribution; got {spec!r}"
            )
        low, high = spec["low"], spec["high"]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)):
            raise InvalidInput(f"search space {name!r}: low and high must be numbers")
        if low > high:
            raise InvalidInput(f"search space {name!r}: low {low} is above high {high}")
        log, step = bool(spec.get("log", False)), spec.get("step")
        if isinstance(low, int) and isinstance(high, int):
            found[name] = optuna.distributions.IntDistribution(low, high, log=log, step=step or 1)
        else:
            found[name] = optuna.distributions.FloatDistribution(
                float(low), float(high), log=log, step=step
            )
    return found


class Trial:
    """What an objective receives: ``params``, ``number`` and ``report`` for pruning.

    Optuna's ``suggest_float``, ``suggest_int`` and ``suggest_categorical`` work
    too, so an Optuna objective runs unchanged: a name in the search space gives
    that space's value, a new name is sampled, added to ``params`` and logged
    as a param of the trial's run. ``optuna`` is Optuna's own trial.

    Example:
        >>> def objective(trial):                                    # doctest: +SKIP
        ...     x = trial.suggest_float("x", -5.0, 5.0)
        ...     return (x - 2) ** 2
        >>> mloop.tune(objective, n_trials=20).best_params           # doctest: +SKIP
        {'x': 2.01...}
    """

    def __init__(self, trial: Any, params: dict[str, Any], metric: str) -> None:
        self.optuna = trial
        self.params = params
        self.number: int = trial.number
        self._metric = metric

    def _suggested(self, name: str, value: Any) -> Any:
        if name not in self.params:
            self.params[name] = value
            fluent.log_param(name, value)
        return value

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        """A float in ``[low, high]``, as Optuna's ``Trial.suggest_float``."""
        value = self.optuna.suggest_float(name, low, high, step=step, log=log)
        return float(self._suggested(name, value))

    def suggest_int(
        self, name: str, low: int, high: int, *, step: int = 1, log: bool = False
    ) -> int:
        """An int in ``[low, high]``, as Optuna's ``Trial.suggest_int``."""
        value = self.optuna.suggest_int(name, low, high, step=step, log=log)
        return int(self._suggested(name, value))

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        """One of ``choices``, as Optuna's ``Trial.suggest_categorical``."""
        return self._suggested(name, self.optuna.suggest_categorical(name, choices))

    def report(self, value: float, step: int) -> None:
        """Record an intermediate value (logged as a metric); raises when the trial is pruned."""
        self.optuna.report(value, step)
        fluent.log_metric(f"{self._metric}_intermediate", value, step=step)
        if self.optuna.should_prune():
            raise _optuna().TrialPruned(f"pruned at step {step}")


@dataclasses.dataclass(frozen=True)
class TrialRecord:
    """One finished trial: number, state, value, params and its run."""

    number: int
    state: str
    value: float | None
    params: Mapping[str, Any]
    run_id: str
    error: str | None = None


@dataclasses.dataclass(frozen=True)
class TuneResult:
    """The search's parent run, its best trial and every trial."""

    run_id: str
    best_params: Mapping[str, Any]
    best_value: float
    best_run_id: str
    trials: tuple[TrialRecord, ...]


def _sampler(optuna: Any, sampler: Any, seed: int | None) -> Any:
    if sampler is None or not isinstance(sampler, str):
        return sampler
    makers = {
        "tpe": lambda: optuna.samplers.TPESampler(seed=seed),
        "random": lambda: optuna.samplers.RandomSampler(seed=seed),
        "cmaes": lambda: optuna.samplers.CmaEsSampler(seed=seed),
        "qmc": lambda: optuna.samplers.QMCSampler(seed=seed),
    }
    if sampler not in makers:
        raise InvalidInput(f"unknown sampler {sampler!r}; known: {', '.join(makers)}")
    return makers[sampler]()


def _pruner(optuna: Any, pruner: Any) -> Any:
    if pruner is None or not isinstance(pruner, str):
        return pruner
    makers = {
        "median": lambda: optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
        "halving": lambda: optuna.pruners.SuccessiveHalvingPruner(),
        "hyperband": lambda: optuna.pruners.HyperbandPruner(),
        "none": lambda: optuna.pruners.NopPruner(),
    }
    if pruner not in makers:
        raise InvalidInput(f"unknown pruner {pruner!r}; known: {', '.join(makers)}")
    return makers[pruner]()


def _storage(
    optuna: Any, storage: Any, executor: str, name: str, settings: Settings
) -> tuple[Any, Any]:
    """The study's storage here, and how a worker opens the same one."""
    if storage is not None or executor == "local":
        return storage, storage  # None: in memory
    folder = settings.local_root() / "tune"
    folder.mkdir(parents=True, exist_ok=True)
    spec = ("journal", str(folder / f"{name}.log"))
    return open_storage(optuna, spec), spec


def open_storage(optuna: Any, spec: Any) -> Any:
    """A storage from what :func:`_storage` handed to workers."""
    if isinstance(spec, tuple) and spec[0] == "journal":
        backend = optuna.storages.journal.JournalFileBackend(spec[1])
        return optuna.storages.JournalStorage(backend)
    return spec


def run_trial(
    objective: Callable[[Trial], float],
    study_name: str,
    storage: Any,
    trial_id: int,
    params: dict[str, Any],
    metric: str,
    run_id: str,
    settings: Settings,
) -> tuple[str, float | None, str | None]:
    """One trial in a worker: ``(state, value, error)``; the driver tells the study.

    ``settings`` name the driver's stores, which the trial's run and what the
    objective logs go to.
    """
    optuna = _optuna()
    client = worker_client(settings)
    study = optuna.load_study(study_name=study_name, storage=open_storage(optuna, storage))
    trial = optuna.trial.Trial(study, trial_id)
    return _evaluate(objective, Trial(trial, params, metric), client.get_run(run_id), metric)


def _evaluate(
    objective: Callable[[Trial], float], trial: Trial, run: Any, metric: str
) -> tuple[str, float | None, str | None]:
    optuna = _optuna()
    with fluent.use_run(run):
        try:
            value = float(objective(trial))
        except optuna.TrialPruned:
            return "PRUNED", None, None
        except Exception as err:
            return "FAIL", None, "".join(traceback.format_exception(err))[-8000:]
        finally:
            fluent.flush()
    if math.isnan(value):
        return "FAIL", None, f"the objective returned NaN for {trial.params}"
    return "COMPLETE", value, None


def tune(
    objective: Callable[[Trial], float],
    space: Mapping[str, Any] | None = None,
    *,
    n_trials: int = 20,
    direction: str = "minimize",
    executor: str = "local",
    max_workers: int | None = None,
    sampler: Any = "tpe",
    pruner: Any = "median",
    seed: int | None = None,
    metric: str = "objective",
    storage: Any = None,
    study_name: str | None = None,
    address: str | None = None,
) -> TuneResult:
    """Search ``space`` for the params that minimize (or maximize) ``objective``.

    ``objective(trial)`` reads ``trial.params`` (or asks for values with
    Optuna's ``trial.suggest_float`` and kin, with or without a ``space``) and
    returns a number; it may call ``trial.report(value, step)`` so that poor
    trials are pruned. When no trial completes, the error shows the first
    failure's exception.

    Raises:
        InvalidInput: a bad space, direction, trial count, sampler, pruner or executor.
        MissingExtra: Optuna (or Ray for ``executor="ray"``) is not installed.
    """
    optuna = _optuna()
    if direction not in DIRECTIONS:
        raise InvalidInput(f"direction must be 'minimize' or 'maximize', got {direction!r}")
    if not isinstance(n_trials, int) or n_trials < 1:
        raise InvalidInput(f"n_trials must be an int >= 1, got {n_trials!r}")
    if executor not in ("local", "ray"):
        raise InvalidInput(f"unknown executor {executor!r}; known: local, ray")
    if not callable(objective):
        raise InvalidInput("objective must be a function of one trial")
    dists = distributions(space or {})
    name = study_name or f"mloop-tune-{time.time_ns()}"
    client = fluent.current_client()
    opened, spec = _storage(optuna, storage, executor, name, client.settings)
    study = optuna.create_study(
        study_name=name,
        storage=opened,
        direction=direction,
        sampler=_sampler(optuna, sampler, seed),
        pruner=_pruner(optuna, pruner),
        load_if_exists=study_name is not None,
    )
    parent = fluent.active_run()
    if parent is None:
        parent_run = client.create_run(
            fluent.current_experiment_id(), run_name=name, tags={"mloop.kind": "tune"}
        )
        own_parent = True
    else:
        parent_run = client.get_run(parent.info.run_id)
        own_parent = False
    parent_id = parent_run.info.run_id
    client.set_tags(parent_id, {"mloop.tune.study": name, "mloop.tune.direction": direction})
    search = _Search(optuna, study, objective, dists, metric, client, parent_run)
    records = search.records
    try:
        if executor == "local":
            search.run_local(n_trials)
        else:
            search.run_ray(n_trials, max_workers, address, spec)
    except BaseException as err:
        if own_parent:
            status = RunStatus.KILLED if isinstance(err, KeyboardInterrupt) else RunStatus.FAILED
            client.set_terminated(parent_id, status, error=f"{type(err).__name__}: {err}")
        raise
    complete = [r for r in records if r.state == "COMPLETE"]
    if not complete:
        if own_parent:
            client.set_terminated(parent_id, RunStatus.FAILED, error="no trial completed")
        raise InvalidInput(_nothing_completed(name, parent_id, records))
    best = study.best_trial
    best_run = next(r.run_id for r in records if r.number == best.number)
    client.log_metric(parent_id, f"best_{metric}", float(best.value))
    client.set_tags(parent_id, {"mloop.tune.best_run_id": best_run})
    client.log_params(parent_id, {f"best.{k}": v for k, v in best.params.items()})
    if own_parent:
        client.set_terminated(parent_id, RunStatus.FINISHED)
    return TuneResult(parent_id, dict(best.params), float(best.value), best_run, tuple(records))


def _nothing_completed(name: str, parent_id: str, records: Sequence[TrialRecord]) -> str:
    message = f"no trial of {name} completed; see the trial runs of {parent_id}"
    failed = next((r for r in records if r.state == "FAIL" and r.error), None)
    if failed is None:
        return message
    error = str(failed.error).rstrip()
    last = error.splitlines()[-1] if error else ""
    indented = "\n".join(f"    {line}" for line in error[-3000:].splitlines())
    return (
        f"{message}; the first failure, trial {failed.number} (run {failed.run_id}), "
        f"raised {last}\n{indented}"
    )


@dataclasses.dataclass
class _Search:
    """One search in progress: asks the study, runs trials, tells it, tracks each."""

    optuna: Any
    study: Any
    objective: Callable[[Trial], float]
    dists: dict[str, Any]
    metric: str
    client: Any
    parent_run: Any
    records: list[TrialRecord] = dataclasses.field(default_factory=list)

    def _ask(self) -> tuple[Any, Any, dict[str, Any]]:
        trial = self.study.ask(self.dists)
        params = dict(trial.params)
        run = self.client.create_run(
            self.parent_run.info.experiment_id,
            run_name=f"trial-{trial.number}",
            tags={"mloop.kind": "trial", "mloop.tune.trial": str(trial.number)},
            parent_run_id=self.parent_run.info.run_id,
        )
        self.client.log_params(run.info.run_id, params)
        return trial, run, params

    def _tell(
        self,
        trial: Any,
        run: Any,
        params: dict[str, Any],
        outcome: tuple[str, float | None, str | None],
    ) -> None:
        state, value, error = outcome
        run_id = run.info.run_id
        states = self.optuna.trial.TrialState
        known = {"COMPLETE": states.COMPLETE, "PRUNED": states.PRUNED, "FAIL": states.FAIL}
        self.study.tell(trial, value if state == "COMPLETE" else None, state=known[state])
        if value is not None:
            self.client.log_metric(run_id, self.metric, value)
        self.client.set_tag(run_id, "mloop.tune.state", state)
        status = RunStatus.FAILED if state == "FAIL" else RunStatus.FINISHED
        self.client.set_terminated(run_id, status, error=error)
        # Params the objective asked for by suggest_* are in the study's storage.
        all_params = {**params, **self.study._storage.get_trial_params(trial._trial_id)}
        self.records.append(TrialRecord(trial.number, state, value, all_params, run_id, error))

    def run_local(self, n_trials: int) -> None:
        """Trials one after another in this process."""
        for _ in range(n_trials):
            trial, run, params = self._ask()
            try:
                outcome = _evaluate(
                    self.objective, Trial(trial, params, self.metric), run, self.metric
                )
            except KeyboardInterrupt:
                self.client.set_terminated(run.info.run_id, RunStatus.KILLED)
                raise
            self._tell(trial, run, params, outcome)

    def run_ray(
        self, n_trials: int, max_workers: int | None, address: str | None, storage: Any
    ) -> None:
        """Trials as Ray tasks, at most ``max_workers`` (default: the cluster's CPUs) at once."""
        try:
            import ray
        except ImportError:
            raise MissingExtra("tune(executor='ray')", extra="ray") from None
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=True)
        remote = ray.remote(run_trial)
        # The trials' stores, resolved here: a Ray worker's environment may name others.
        settings = worker_settings(self.client)
        cpus = ray.cluster_resources().get("CPU", 1)  # type: ignore[no-untyped-call]
        limit = max_workers or max(1, int(cpus))
        running: dict[Any, tuple[Any, Any, dict[str, Any]]] = {}
        started = 0
        try:
            while started < n_trials or running:
                while started < n_trials and len(running) < limit:
                    trial, run, params = self._ask()
                    self.client.flush()  # the worker reads the trial's run from the store
                    ref = remote.options(max_retries=0).remote(
                        self.objective,
                        self.study.study_name,
                        storage,
                        trial._trial_id,  # Optuna's handle to rebuild the trial in the worker
                        params,
                        self.metric,
                        run.info.run_id,
                        settings,
                    )
                    running[ref] = (trial, run, params)
                    started += 1
                ready, _ = ray.wait(list(running), num_returns=1)
                for ref in ready:
                    trial, run, params = running.pop(ref)
                    try:
                        outcome = ray.get(ref)
                    except Exception as err:  # the worker died
                        outcome = ("FAIL", None, f"{type(err).__name__}: {err}")
                    self._tell(trial, run, params, outcome)
        except KeyboardInterrupt:
            for ref, (_, run, _) in running.items():
                ray.cancel(ref, force=True)
                self.client.set_terminated(run.info.run_id, RunStatus.KILLED)
            raise
