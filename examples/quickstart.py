"""mloop end to end, as it stands today: data, tracking, search, pipelines, tuning, models.

Run it with ``make demo``. It versions a synthetic dataset, trains a small
model family on it, tracks every run (params, metric curves, artifacts, the
dataset version it read), finds the best run with a search filter, compares
runs, shows the CLI a team uses day to day, then runs the training pipeline
(examples/training_pipeline.py): tracked and cached, killed midway and
resumed, on Ray, and tuned with Optuna. Finally the pipeline's model is
registered and signed, gated, approved and promoted to champion; a
challenger follows, is promoted and rolled back; the model card is printed,
and a tampered package is refused. Then reliability (kill signals, fsck),
projects, autologging a scikit-learn search, and an MLflow store imported
with one command. Last, serving: the champion and the challenger behind
HTTP, then a deployment whose buggy canary the server's canary analysis
judges on live traffic and takes out; and this week's data checked for drift
against the training data. Everything lives in ``./.mloop-demo``.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parent
HOME = Path(".mloop-demo").absolute()
shutil.rmtree(HOME, ignore_errors=True)
os.environ["MLOOP_HOME"] = str(HOME)
os.environ["MLOOP_TRACKING_URI"] = f"sqlite:///{HOME}/mloop.db"
os.environ["MLOOP_ARTIFACTS_URI"] = str(HOME / "artifacts")

import closing_loop  # noqa: E402  (beside this file)
import from_mlflow  # noqa: E402  (beside this file)
import serving_demo  # noqa: E402  (beside this file)

import mloop  # noqa: E402  (the environment above must be set first)


def make_data(folder: Path, n: int = 400) -> Path:
    rng = random.Random(7)
    path = folder / "credit.csv"
    lines = ["income,debt,region,label"]
    for _ in range(n):
        income, debt = rng.gauss(50, 15), rng.gauss(20, 8)
        label = int(income - 1.5 * debt + rng.gauss(0, 10) > 15)
        region = rng.choice(["north", "south"])
        lines.append(f"{income:.3f},{debt:.3f},{region},{label}")
    path.write_text("\n".join(lines))
    return path


def load(path: Path) -> list[tuple[float, float, int]]:
    rows = path.read_text().splitlines()[1:]
    return [(float(a), float(b), int(c)) for a, b, _, c in (r.split(",") for r in rows)]


def train(
    data: list[tuple[float, float, int]], lr: float, epochs: int
) -> tuple[float, float, float]:
    """Logistic regression by gradient descent, logging a loss curve as it goes."""
    w1 = w2 = b = 0.0
    for epoch in range(epochs):
        loss = g1 = g2 = gb = 0.0
        for income, debt, label in data:
            x1, x2 = (income - 50) / 15, (debt - 20) / 8
            p = 1 / (1 + math.exp(-(w1 * x1 + w2 * x2 + b)))
            loss -= label * math.log(p + 1e-12) + (1 - label) * math.log(1 - p + 1e-12)
            g1, g2, gb = g1 + (p - label) * x1, g2 + (p - label) * x2, gb + (p - label)
        n = len(data)
        w1, w2, b = w1 - lr * g1 / n, w2 - lr * g2 / n, b - lr * gb / n
        mloop.log_metric("train_loss", loss / n, step=epoch)
    return w1, w2, b


def accuracy(data: list[tuple[float, float, int]], w: tuple[float, float, float]) -> float:
    right = 0
    for income, debt, label in data:
        z = w[0] * (income - 50) / 15 + w[1] * (debt - 20) / 8 + w[2]
        right += int((z > 0) == bool(label))
    return right / len(data)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="mloop-demo-"))
    data_path = make_data(work)

    print("0. Versioning the data")
    dataset = mloop.data.add(data_path, name="credit", tags=["raw"])
    print(f"   {dataset.ref}: {len(dataset.files)} file, digest {dataset.digest[:12]}")
    print(f"   schema: {dataset.schema}")
    suite = mloop.data.ExpectationSuite(
        "credit-checks",
        [
            mloop.data.Expectation("not_null", column="income"),
            mloop.data.Expectation("between", column="debt", min=-20, max=80),
            mloop.data.Expectation("in_set", column="label", values=[0, 1]),
            mloop.data.Expectation("row_count", min=100),
        ],
    )
    checked = mloop.data.validate(dataset, suite)
    verdict = "passed" if checked.success else "FAILED"
    print(f"   validation: {verdict} ({len(checked.results)} checks)")
    again = mloop.data.add(data_path, name="credit")
    print(f"   adding it unchanged gives back {again.ref}")
    data = load(mloop.data.get("credit@raw").path / "credit.csv")
    train_rows, test_rows = data[:300], data[300:]

    print("1. Tracking a small sweep of runs")
    mloop.set_experiment("credit-scoring")
    with mloop.start_run(run_name="sweep") as sweep:
        for lr in (0.05, 0.2, 0.8):
            for epochs in (10, 40):
                with mloop.start_run(run_name=f"lr={lr} epochs={epochs}", nested=True):
                    mloop.log_params({"lr": lr, "epochs": epochs, "db_password": "never-stored"})
                    mloop.set_tag("model", "logreg")
                    mloop.log_input(dataset, context="training")
                    weights = train(train_rows, lr, epochs)
                    mloop.log_metrics(
                        {
                            "train_acc": accuracy(train_rows, weights),
                            "test_acc": accuracy(test_rows, weights),
                        }
                    )
                    mloop.log_dict(
                        {"w_income": weights[0], "w_debt": weights[1], "bias": weights[2]},
                        "model/weights.json",
                    )
        mloop.log_text("Six runs: three learning rates by two epoch counts.", "README.txt")
    print(f"   parent run {sweep.info.run_id} with 6 nested runs")

    print("2. A failing run is recorded as FAILED, with its error")
    try:
        with mloop.start_run(run_name="broken"):
            mloop.log_param("lr", -1)
            raise ValueError("learning rate must be positive")
    except ValueError:
        pass

    print("3. Searching: the best run with enough epochs")
    best = mloop.search_runs(
        experiment_names=["credit-scoring"],
        filter_string="params.epochs = '40' and metrics.test_acc > 0.5",
        order_by=["metrics.test_acc DESC"],
    )
    print(
        best[["run_name", "metrics.test_acc", "params.lr", "params.db_password"]].to_string(
            index=False
        )
    )
    best_id = best["run_id"].iloc[0]
    curve = mloop.get_metric_history(best_id, "train_loss")
    first, last = curve[0].value, curve[-1].value
    print(f"   best run's loss: {first:.3f} -> {last:.3f} over {len(curve)} epochs")

    print("4. The same from the command line")
    mloop_cli = str(Path(sys.executable).with_name("mloop"))
    second_id = best["run_id"].iloc[1]
    for args in (
        ["data", "ls"],
        ["data", "profile", "credit@raw"],
        ["data", "lineage", "credit@raw"],
        ["experiments", "ls"],
        [
            "runs",
            "ls",
            "-e",
            "credit-scoring",
            "-f",
            "params.epochs = '40'",
            "-o",
            "metrics.test_acc DESC",
        ],
        ["runs", "compare", best_id, second_id],
        ["runs", "show", best_id],
    ):
        print(f"   $ mloop {' '.join(args)}")
        subprocess.run([mloop_cli, *args], check=True)

    first = pipelines(mloop_cli)
    models(mloop_cli, first.output("publish").model_uri)

    print("15. Cleaning up: delete the failed run, then collect garbage")
    broken = mloop.search_runs(
        experiment_names=["credit-scoring"], filter_string="status = 'FAILED'", output_format="list"
    )
    subprocess.run([mloop_cli, "runs", "delete", *(r.info.run_id for r in broken)], check=True)
    subprocess.run([mloop_cli, "gc", "--grace-period", "0"], check=True)
    reliability(mloop_cli, work)
    projects(mloop_cli, data_path)
    from_mlflow.autologging(data_path)
    from_mlflow.import_history(mloop_cli, work)
    serving_demo.serve_models(mloop_cli)
    serving_demo.canary_taken_out(mloop_cli)
    monitoring(mloop_cli, work)
    closing_loop.close_the_loop(mloop_cli, work)
    shutil.rmtree(work)
    print(f"Done. Everything is in {HOME}; explore it with:")
    print(f"  MLOOP_HOME={HOME} .venv/bin/mloop runs ls")


LOGGER = """
import pathlib, sys, mloop
mloop.set_experiment("reliability")
run = mloop.start_run(run_name=sys.argv[2])       # no `with`: the process ends it
for step in range(10**9):
    mloop.log_metric("loss", 1 / (step + 1), step=step)
    if step == 50_000:
        pathlib.Path(sys.argv[1]).write_text(run.info.run_id)
"""


def _kill_logger(work: Path, name: str, sig: signal.Signals) -> tuple[str, int]:
    """Start a script logging points as fast as it can, then send it ``sig`` midway."""
    ready = work / f"{name}.ready"
    process = subprocess.Popen([sys.executable, "-c", LOGGER, str(ready), name])
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # a moment of buffered logging
    process.send_signal(sig)
    return ready.read_text(), process.wait(timeout=60)


def reliability(mloop_cli: str, work: Path) -> None:
    """Section 16: kill signals, dead runs and a check of the whole store."""
    print("16. Reliability: `kill` keeps every point; SIGKILL leaves a run shown as dead")
    run_id, code = _kill_logger(work, "terminated", signal.SIGTERM)
    run = mloop.get_run(run_id)
    steps = sorted(point.step for point in mloop.get_metric_history(run_id, "loss"))
    whole = steps == list(range(len(steps)))  # 0, 1, 2 … up to the last step logged
    print(f"   SIGTERM: exit {code}, run {run.info.status.value}, {len(steps):,} points")
    print(f"   steps 0 to {steps[-1]:,} are all there: {whole}")
    _kill_logger(work, "killed", signal.SIGKILL)
    subprocess.run([mloop_cli, "runs", "ls", "-e", "reliability"], check=True)
    print("   $ mloop fsck   (every object, pack and local copy re-read)")
    subprocess.run([mloop_cli, "fsck"], check=True)


def monitoring(mloop_cli: str, work: Path) -> None:
    """Section 22: this week's applicants against the training data, column by column."""
    print("22. Monitoring: has this week's data drifted from the training data?")
    frame = mloop.data.get("credit@raw").to_pandas()
    week = frame.sample(frac=0.5, random_state=1).assign(income=lambda f: f["income"] * 1.25)
    path = work / "this-week.csv"
    week.to_csv(path, index=False)
    print("   this week: incomes 25% higher, debts as before")
    args = ["monitor", "drift", "credit@raw", str(path), "--columns", "income,debt"]
    print(f"   $ mloop {' '.join(args)}")
    subprocess.run([mloop_cli, *args], check=True)


def projects(mloop_cli: str, data_path: Path) -> None:
    """Section 17: two projects hold the same names; who acts comes from the context."""
    from mloop.context import Identity, default_context

    print("17. Projects: the fraud team's 'credit' dataset and experiment beside ours")
    mloop.set_project("fraud")
    fraud = mloop.data.add(data_path.parent, name="credit", description="fraud team's copy")
    mloop.set_experiment("credit-scoring")
    with mloop.start_run(run_name="fraud-baseline") as run:
        mloop.log_metric("test_acc", 0.5)
    print(f"   project fraud: {fraud.ref}, run {run.info.run_id} in its own credit-scoring")
    mloop.set_project(None)
    ours = mloop.data.get("credit")
    print(f"   project default keeps its own {ours.ref} (digest {ours.digest[:12]})")
    for args in (["projects", "ls"], ["--project", "fraud", "data", "ls"], ["data", "ls"]):
        _cli(mloop_cli, *args)
    bot = default_context().acting_as(Identity("nightly-ci", kind="service"))
    mloop.models.approve("credit", 1, comment="nightly checks passed", context=bot)
    who = sorted({d.actor for d in mloop.models.decisions("credit", 1)})
    print(f"   decisions on credit/1 by: {', '.join(who)}")


def _wait_for_step(run_id: str, step: str, timeout: float = 60) -> None:
    """Poll the store until a step of a pipeline run is running."""
    client = mloop.Client()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = client.search_runs(
            [client.get_experiment_by_name("credit-pipeline").experiment_id],  # type: ignore[union-attr]
            filter_string=f"tags.mloop.parentRunId = '{run_id}' "
            f"AND tags.`mloop.step.node` = '{step}'",
        )
        if found:
            return
        time.sleep(0.2)
    raise RuntimeError(f"step {step} of {run_id} did not start within {timeout} s")


def pipelines(mloop_cli: str) -> Any:
    """Sections 5 to 8: the training pipeline, killed and resumed, on Ray, tuned."""
    sys.path.insert(0, str(EXAMPLES))
    from training_pipeline import training

    print("5. A training pipeline: data version -> validate -> split -> train -> evaluate")
    first = training.run(lr=0.3, experiment="credit-pipeline")
    print(f"   run {first.run_id}: test accuracy {first.output('evaluate')['accuracy']:.3f}")
    subprocess.run([mloop_cli, "pipeline", "show", first.run_id], check=True)
    second = training.run(lr=0.3, experiment="credit-pipeline")
    cached = [name for name, state in second.steps.items() if state.cached]
    print(f"   the same again: {len(cached)} of {len(second.steps)} steps from the cache")

    print("6. Killing a run midway (Ctrl-C while it trains), then resuming it")
    paths = [str(EXAMPLES), os.environ.get("PYTHONPATH", "")]
    env = {
        **os.environ,
        "MLOOP_DEMO_SLOW_SECONDS": "30",
        "PYTHONPATH": os.pathsep.join(filter(None, paths)),
    }
    command = [mloop_cli, "pipeline", "run", "training_pipeline:training", "-p", "lr=0.1"]
    command += ["-e", "credit-pipeline"]
    worker = subprocess.Popen(command, env=env, cwd=EXAMPLES, stdout=subprocess.DEVNULL)
    run_id = ""
    deadline = time.monotonic() + 60
    while not run_id and time.monotonic() < deadline:
        runs = mloop.search_runs(
            experiment_names=["credit-pipeline"],
            filter_string="tags.`mloop.kind` = 'pipeline' AND params.lr = '0.1'",
            output_format="list",
        )
        run_id = runs[0].info.run_id if runs else ""
        time.sleep(0.2)
    _wait_for_step(run_id, "train")
    worker.send_signal(signal.SIGINT)
    worker.wait(timeout=60)
    print(f"   {run_id} is {mloop.get_run(run_id).info.status.value} (exit {worker.returncode})")
    resumed = mloop.pipelines.resume(run_id)
    ran = [name for name, state in resumed.steps.items() if not state.cached]
    print(f"   resumed: {resumed.status}; ran again only {', '.join(ran)}")

    print("7. The same pipeline on Ray: every step a Ray task")
    import ray

    # Ray workers import the steps by name.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(EXAMPLES), os.environ.get("PYTHONPATH")])
    )
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    on_ray = training.run(lr=0.3, executor="ray", cache=False, experiment="credit-pipeline")
    ray.shutdown()
    print(
        f"   run {on_ray.run_id} on Ray: {on_ray.status}, accuracy "
        f"{on_ray.output('evaluate')['accuracy']:.3f}"
    )

    print("8. Tuning the learning rate: 12 Optuna trials, each a nested run")
    data = mloop.data.get("credit@raw").to_pandas()
    parts = training_split(data)

    def objective(trial: mloop.pipelines.Trial) -> float:
        from training_pipeline import evaluate, train

        weights = train(parts.train, trial.params["lr"], 40)
        return evaluate(weights, parts.test)["accuracy"]

    mloop.set_experiment("credit-tuning")
    tuned = mloop.tune(
        objective,
        {"lr": {"low": 0.01, "high": 3.0, "log": True}},
        n_trials=12,
        direction="maximize",
        seed=7,
    )
    print(
        f"   best lr {tuned.best_params['lr']:.3f}: accuracy {tuned.best_value:.3f} "
        f"(run {tuned.best_run_id})"
    )
    return first


def _cli(mloop_cli: str, *args: str, user: str | None = None, check: bool = True) -> int:
    """Run an mloop command as a user would, echoing it (optionally as another user)."""
    who = f"MLOOP_USER={user} " if user else ""
    print(f"   $ {who}mloop {' '.join(args)}")
    env = {**os.environ, **({"MLOOP_USER": user} if user else {})}
    done = subprocess.run([mloop_cli, *args], env=env, check=False)
    if check and done.returncode != 0:
        raise SystemExit(f"mloop {' '.join(args)} failed with exit code {done.returncode}")
    return done.returncode


def models(mloop_cli: str, pipeline_model: str) -> None:
    """Sections 9 to 14: register, gate, approve, promote, roll back, card, tamper check."""
    rule = "roc_auc >= champion.roc_auc - 0.01"
    gate_args = ["--data", "credit@raw", "--target", "label", "--sensitive", "region"]
    print("9. Signing keys, then the pipeline's model registered as credit/1 (signed)")
    _cli(mloop_cli, "keys", "init")
    _cli(mloop_cli, "models", "register", pipeline_model, "credit")
    _cli(
        mloop_cli,
        "models",
        "describe",
        "credit",
        "--description",
        "Scores loan applications",
        "--intended-use",
        "Pre-screening personal loans; a person decides",
        "--limitations",
        "Trained on synthetic data; not for business loans",
    )

    print("10. Governance: champion needs a passed gate and one approval")
    _cli(
        mloop_cli,
        "models",
        "protect",
        "credit",
        "champion",
        "--approvals",
        "1",
        "--gate",
        rule,
        "--gate",
        "dp_diff <= 0.25",
    )
    _cli(
        mloop_cli,
        "models",
        "gate",
        "credit/1",
        "--against",
        "credit@champion",
        "--rule",
        rule,
        "--rule",
        "dp_diff <= 0.25",
        *gate_args,
    )
    code = _cli(mloop_cli, "models", "alias", "credit", "champion", "1", check=False)
    print(f"   promoting without an approval is refused (exit {code})")
    _cli(mloop_cli, "models", "approve", "credit", "1", "-m", "card reviewed", user="risk-officer")
    _cli(mloop_cli, "models", "alias", "credit", "champion", "1", "--reason", "first release")

    print("11. A challenger: scikit-learn on the same data version, gated against champion")
    from sklearn.linear_model import LogisticRegression

    data = mloop.data.get("credit@raw")
    frame = data.to_pandas()
    mloop.set_experiment("credit-models")
    with mloop.start_run(run_name="sklearn-challenger"):
        mloop.log_input(data, context="training")
        mloop.log_param("C", 0.5)
        features = frame[["income", "debt"]]
        challenger = LogisticRegression(C=0.5).fit(features, frame["label"])
        info = mloop.models.log_model(
            challenger, "model", input_example=features[:3], registered_model_name="credit"
        )
    assert info.registered_version is not None
    version = str(info.registered_version.version)
    _cli(mloop_cli, "models", "alias", "credit", "challenger", version)
    code = _cli(
        mloop_cli,
        "models",
        "gate",
        "credit@challenger",
        "--against",
        "credit@champion",
        "--rule",
        rule,
        "--rule",
        "dp_diff <= 0.25",
        *gate_args,
        check=False,
    )
    if code == 0:
        _cli(mloop_cli, "models", "approve", "credit", version, user="risk-officer")
        _cli(
            mloop_cli,
            "models",
            "alias",
            "credit",
            "champion",
            version,
            "--reason",
            "challenger won",
        )
        print("12. The new champion misbehaves in production: roll back")
        _cli(mloop_cli, "models", "rollback", "credit", "champion", "--reason", "canary errors")
    else:
        print(f"12. The challenger failed its gate (exit {code}): champion stays credit/1")
    _cli(mloop_cli, "models", "history", "credit")

    print("13. Serving code loads the champion by alias; bad input gets a clear error")
    champion = mloop.models.load("models:/credit@champion")
    applicant = {"income": 64.0, "debt": 12.5}
    print(f"   {champion}: approve {applicant}? {champion.predict([applicant]).tolist()}")
    try:
        champion.predict([{"income": "a lot", "debt": 12.5}])
    except mloop.MloopError as err:
        print(f"   error: {err}")
    _cli(mloop_cli, "models", "show", "credit")
    card_path = HOME / "credit-card.md"
    _cli(mloop_cli, "models", "card", "credit@champion", "--out", str(card_path))
    card = card_path.read_text().split("\n## ")
    for section in card:
        if section.startswith(("Intended use", "Fairness", "Lineage", "Approvals")):
            print("   ## " + "\n   ".join(section.strip().splitlines()))

    print("14. Integrity: a package changed on disk is refused; the registry's copy verifies")
    shipped = [f.path for f in champion.manifest.files if f.path.startswith("code/")]
    tampered = Path(champion.path) / (shipped or [champion.manifest.files[0].path])[0]
    tampered.chmod(0o644)
    tampered.write_bytes(tampered.read_bytes() + b"\nprint('injected')\n")
    mloop.models.clear_cache()
    try:
        mloop.models.load("models:/credit@champion")
    except mloop.MloopError as err:
        print(f"   refused: {err}")
    shutil.rmtree(champion.path)  # the next load fetches a fresh, verified copy
    _cli(mloop_cli, "models", "verify", "credit@champion")


def training_split(data: Any) -> Any:
    from training_pipeline import split

    return split(data)


if __name__ == "__main__":
    main()
