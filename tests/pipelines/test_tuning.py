from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import mloop
from mloop.entities import RunStatus
from mloop.errors import InvalidInput
from mloop.pipelines.tuning import Trial, distributions

optuna = pytest.importorskip("optuna", reason="the tune extra is not installed")


def quadratic(trial: Trial) -> float:
    return (trial.params["x"] - 2.0) ** 2 + (0 if trial.params["kind"] == "a" else 1)


def children(run_id: str) -> list[mloop.Run]:
    return mloop.search_runs(
        filter_string=f"tags.mloop.parentRunId = '{run_id}'", output_format="list"
    )


def test_a_search_tracks_every_trial_and_the_best(home: Path) -> None:
    result = mloop.tune(
        quadratic, {"x": (-5.0, 5.0), "kind": ["a", "b"]}, n_trials=25, seed=3, pruner="none"
    )
    assert len(result.trials) == 25
    assert abs(result.best_params["x"] - 2.0) < 1.0 and result.best_params["kind"] == "a"
    parent = mloop.get_run(result.run_id)
    assert parent.info.status == RunStatus.FINISHED
    assert parent.data.tags["mloop.tune.best_run_id"] == result.best_run_id
    assert parent.data.metrics["best_objective"] == pytest.approx(result.best_value)
    assert parent.data.params["best.kind"] == "a"
    trials = children(result.run_id)
    assert len(trials) == 25
    best = mloop.get_run(result.best_run_id)
    assert best.data.metrics["objective"] == pytest.approx(result.best_value)
    assert set(best.data.params) == {"x", "kind"}


def test_maximize_with_int_and_log_ranges(home: Path) -> None:
    result = mloop.tune(
        lambda t: t.params["n"] * t.params["lr"],
        {"n": (1, 5), "lr": {"low": 1e-3, "high": 1.0, "log": True}},
        n_trials=15,
        direction="maximize",
        sampler="random",
        seed=0,
    )
    assert isinstance(result.best_params["n"], int)
    assert result.best_value == max(r.value for r in result.trials if r.value is not None)


def test_poor_trials_are_pruned(home: Path) -> None:
    def learning(trial: Trial) -> float:
        value = 0.0
        for step in range(10):
            value = trial.params["rate"] * (step + 1)
            trial.report(value, step)
        return value

    result = mloop.tune(
        learning, {"rate": (0.0, 1.0)}, n_trials=20, sampler="random", seed=1, pruner="median"
    )
    states = [r.state for r in result.trials]
    assert "PRUNED" in states and "COMPLETE" in states
    pruned = next(r for r in result.trials if r.state == "PRUNED")
    history = mloop.get_metric_history(pruned.run_id, "objective_intermediate")
    assert 1 <= len(history) < 10


def test_failing_trials_are_recorded_and_the_search_goes_on(home: Path) -> None:
    def sometimes(trial: Trial) -> float:
        if trial.params["x"] > 0:
            raise ValueError("positive x")
        return trial.params["x"]

    result = mloop.tune(sometimes, {"x": (-1.0, 1.0)}, n_trials=12, sampler="random", seed=2)
    failed = [r for r in result.trials if r.state == "FAIL"]
    assert failed
    run = mloop.get_run(failed[0].run_id)
    assert run.info.status == RunStatus.FAILED
    assert "ValueError: positive x" in (run.info.error or "")


def test_a_search_where_nothing_completes(home: Path) -> None:
    def broken(trial: Trial) -> float:
        raise RuntimeError("always")

    with pytest.raises(InvalidInput, match=r"no trial of .* completed") as caught:
        mloop.tune(broken, {"x": (0.0, 1.0)}, n_trials=2)
    message = str(caught.value)
    assert "the first failure, trial 0" in message
    assert "raised RuntimeError: always" in message
    assert 'raise RuntimeError("always")' in message  # the traceback, indented


def test_optunas_suggest_methods_on_the_trial(home: Path) -> None:
    def objective(trial: Trial) -> float:
        x = trial.suggest_float("x", -5.0, 5.0)
        n = trial.suggest_int("n", 1, 3)
        kind = trial.suggest_categorical("kind", ["a", "b"])
        lr = trial.suggest_float("lr", 1e-3, 1.0, log=True)  # also in the space
        return (x - 2) ** 2 + n + (0 if kind == "a" else 1) + lr

    result = mloop.tune(
        objective,
        {"lr": {"low": 0.001, "high": 1.0, "log": True}},
        n_trials=15,
        sampler="random",
        seed=3,
    )
    first = result.trials[0]
    assert set(first.params) == {"x", "n", "kind", "lr"}
    run = mloop.get_run(first.run_id)
    assert set(run.data.params) == {"x", "n", "kind", "lr"}
    assert run.data.params["kind"] == first.params["kind"]
    assert set(result.best_params) == {"x", "n", "kind", "lr"}
    # a space is optional when the objective asks for its values
    assert mloop.tune(objective, n_trials=2, seed=1).trials[0].params.keys() == first.params.keys()


@pytest.mark.parametrize(
    ("space", "options", "message"),
    [
        ({"x": (1.0, 0.0)}, {}, "low 1.0 is above high 0.0"),
        ({"x": []}, {}, "no choices"),
        ({"x": "wide"}, {}, "expected a list of choices"),
        ({"x": ("a", "b")}, {}, "must be numbers"),
        ({"x": (0.0, 1.0)}, {"direction": "up"}, "direction must be"),
        ({"x": (0.0, 1.0)}, {"n_trials": 0}, "n_trials must be"),
        ({"x": (0.0, 1.0)}, {"sampler": "magic"}, "unknown sampler"),
        ({"x": (0.0, 1.0)}, {"pruner": "magic"}, "unknown pruner"),
        ({"x": (0.0, 1.0)}, {"executor": "cloud"}, "unknown executor"),
    ],
)
def test_bad_searches_fail_before_any_trial(
    home: Path, space: dict[str, object], options: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        mloop.tune(quadratic, space, **options)  # type: ignore[arg-type]
    assert mloop.search_runs(output_format="list") == []


def test_optuna_distributions_pass_through() -> None:
    found = distributions({"x": optuna.distributions.FloatDistribution(0, 1), "k": [1, 2]})
    assert isinstance(found["k"], optuna.distributions.CategoricalDistribution)


@mloop.step
def search_step(trials: int) -> dict[str, float]:
    result = mloop.tune(lambda t: (t.params["x"] - 1) ** 2, {"x": (0.0, 2.0)}, n_trials=trials)
    return {"x": float(result.best_params["x"])}


@mloop.pipeline
def tuned(trials: int = 5) -> None:
    search_step(trials)


def test_tune_as_a_pipeline_step_nests_trials_under_the_step(home: Path) -> None:
    result = tuned.run(trials=6)
    step_run = result.steps["search_step"].run_id
    assert step_run is not None
    assert len(children(step_run)) == 6
    assert 0.0 <= result.output("search_step")["x"] <= 2.0


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray = pytest.importorskip("ray", reason="the ray extra is not installed")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_trials_run_in_parallel_on_ray(home: Path, local_ray: None) -> None:
    def learning(trial: Trial) -> float:
        mloop.log_metric("from_worker", 1.0)
        for step in range(3):
            trial.report(trial.params["x"] * step, step)
        return trial.params["x"]

    result = mloop.tune(
        learning, {"x": (0.0, 1.0)}, n_trials=6, executor="ray", sampler="random", seed=4
    )
    assert len(result.trials) == 6
    assert result.best_value == min(r.value for r in result.trials if r.value is not None)
    trial_runs = children(result.run_id)
    assert len(trial_runs) == 6
    assert all(r.data.metrics.get("from_worker") == 1.0 for r in trial_runs)
    assert (home / "tune").is_dir()  # the shared study journal


def test_trials_on_ray_log_to_the_stores_the_driver_chose(
    home: Path, tmp_path: Path, local_ray: None
) -> None:
    tracking, artifacts = f"sqlite:///{tmp_path}/chosen/mloop.db", tmp_path / "objects"
    mloop.set_tracking_uri(tracking, artifacts_uri=str(artifacts))

    def noting(trial: Trial) -> float:
        mloop.log_text(f"trial {trial.number}", "note.txt")
        return float(trial.params["x"])

    result = mloop.tune(noting, {"x": (0.0, 1.0)}, n_trials=2, executor="ray", seed=1)
    client = mloop.Client(tracking_uri=tracking, artifacts_uri=str(artifacts))
    for record in result.trials:
        assert client.load_text(record.run_id, "note.txt") == f"trial {record.number}"
    assert not (home / "artifacts").exists()
