"""Model cards: what a version is, what it was trained on, how it did, and who let it through.

:func:`model_card` gathers the card as plain data (JSON-able);
:func:`render_markdown` writes it for people. The card covers the model's
description, intended use and limitations (``update_model``), the training
data (the dataset versions the run and its pipeline read, with their
schema), the run's parameters, evaluation metrics overall and per slice,
fairness, feature importance, lineage (data → pipeline → run → model), gate
results and approvals.

Example:
    >>> import mloop, tempfile
    >>> from sklearn.linear_model import LinearRegression
    >>> path = tempfile.mkdtemp() + "/m"
    >>> _ = mloop.models.save(LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]), path)
    >>> _ = mloop.models.register(path, "carded")
    >>> _ = mloop.models.update_model("carded", intended_use="Demonstrations only")
    >>> card = mloop.models.model_card("carded/1")
    >>> card["intended_use"], "## Evaluation" in render_markdown(card)
    ('Demonstrations only', True)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from mloop.context.context import Context
from mloop.data import get as get_dataset
from mloop.entities import ModelVersion, Run
from mloop.errors import MloopError, NotFound
from mloop.models.backend import ModelBackend, backend
from mloop.models.fetch import resolve_version
from mloop.models.uris import parse_version_ref

_CARD_TAGS = ("mloop.card.intended_use", "mloop.card.limitations")


def _run(be: ModelBackend, run_id: str | None) -> Run | None:
    if run_id is None:
        return None
    try:
        return be.client.get_run(run_id)
    except NotFound:
        return None


def _datasets(be: ModelBackend, runs: list[Run]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for run in runs:
        for item in run.inputs:
            if item.kind != "dataset" or not item.source.startswith("mloop-dataset:"):
                continue
            ref = item.source.removeprefix("mloop-dataset:")
            entry: dict[str, Any] = {"ref": ref, "digest": item.digest, "run_id": run.info.run_id}
            try:
                dataset = get_dataset(ref)
                entry["schema"] = [
                    {"name": n, "type": t, "nullable": null} for n, t, null in dataset.schema
                ]
                entry["rows"] = (dataset.profile or {}).get("rows")
            except MloopError:
                entry["schema"] = []
                entry["note"] = "version no longer available"
            seen.setdefault(ref, entry)
    return list(seen.values())


def _lineage_runs(be: ModelBackend, run: Run | None) -> tuple[list[Run], Run | None]:
    """The run, and with a pipeline parent that pipeline run and its other steps."""
    if run is None:
        return [], None
    parent = _run(be, run.info.parent_run_id)
    if parent is None or parent.data.tags.get("mloop.kind") != "pipeline":
        return [run], None
    siblings = be.client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mloop.parentRunId = '{parent.info.run_id}'",
    )
    # Searches return runs without their inputs; read each step of the pipeline whole.
    steps = [be.client.get_run(s.info.run_id) for s in siblings if s.info.run_id != run.info.run_id]
    return [run, *steps], parent


def model_card(ref: str, *, context: Context | None = None) -> dict[str, Any]:
    """The card of a version (``NAME/3``, ``NAME@alias``) as plain data."""
    be = backend(context)
    version = resolve_version(be, parse_version_ref(ref))
    model = be.stores.models.get_model(version.name)
    run = _run(be, version.run_id)
    runs, pipeline = _lineage_runs(be, run)
    evaluations = be.stores.governance.list_evaluations(version.name, version.version)
    latest = evaluations[0].result if evaluations else {}
    datasets = _datasets(be, runs)
    return {
        "model": _overview(version, model.description, model.owner),
        "intended_use": model.tags.get(_CARD_TAGS[0], ""),
        "limitations": model.tags.get(_CARD_TAGS[1], ""),
        "tags": {k: v for k, v in model.tags.items() if not k.startswith("mloop.")},
        "training_data": datasets,
        "parameters": dict(run.data.params) if run else {},
        "training_metrics": dict(version.metrics),
        "evaluation": {
            "data": latest.get("data"),
            "task": latest.get("task"),
            "metrics": latest.get("metrics", {}),
            "slices": latest.get("slices", {}),
            "confusion_matrix": latest.get("confusion_matrix"),
            "labels": latest.get("labels"),
        },
        "fairness": latest.get("fairness", {}),
        "feature_importance": latest.get("feature_importance", {}),
        "lineage": {
            "datasets": [d["ref"] for d in datasets],
            "pipeline_run": pipeline.info.run_id if pipeline else None,
            "pipeline": pipeline.data.tags.get("mloop.pipeline.name") if pipeline else None,
            "run": version.run_id,
            "model_version": version.ref,
            "policy_run": _policy_run(be, version.ref),
        },
        "gates": [
            {k: v for k, v in dataclasses.asdict(g).items() if k != "details"}
            for g in be.stores.governance.list_gates(version.name, version.version)
        ],
        "approvals": [
            dataclasses.asdict(d)
            for d in be.stores.governance.list_decisions(version.name, version.version)
        ],
    }


def _policy_run(be: ModelBackend, ref: str) -> dict[str, Any] | None:
    """The continuous-training policy run that made this version, if one did: why it exists."""
    store = be.stores.policies
    for policy in store.list_policies():
        for run in store.list_runs(policy.name, limit=100):
            if any(s.get("step") == "model-version" and s.get("ref") == ref for s in run.chain):
                trigger = dict(run.chain[0]) if run.chain else {}
                return {
                    "policy": policy.name,
                    "run_id": run.run_id,
                    "status": run.status,
                    "trigger": {k: v for k, v in trigger.items() if k not in ("step", "time")},
                }
    return None


def _trigger_text(trigger: dict[str, Any]) -> str:
    if "monitor" in trigger:
        return f"alert {trigger.get('rule', '?')} of monitor {trigger['monitor']}"
    if trigger.get("on") == "dataset" or "dataset" in trigger:
        return f"data {trigger.get('dataset', '?')}"
    if trigger.get("on") == "schedule":
        return "a schedule"
    return "a run started by hand"


def _overview(version: ModelVersion, description: str, owner: str) -> dict[str, Any]:
    return {
        "name": version.name,
        "version": version.version,
        "ref": version.ref,
        "description": version.description or description,
        "owner": owner,
        "flavor": version.flavor,
        "status": version.status.value,
        "aliases": list(version.aliases),
        "digest": version.digest,
        "signed_by_key": version.signing_key_id,
        "registered_by": version.created_by,
        "registered_time": version.created_time,
        "source": version.source,
    }


def _number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _when(millis: int) -> str:
    return dt.datetime.fromtimestamp(millis / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    if not rows:
        return ["_none_", ""]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_number(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return [*lines, ""]


def render_markdown(card: dict[str, Any]) -> str:
    """The card as a Markdown document."""
    model = card["model"]
    out = [f"# Model card: {model['ref']}", ""]
    out += [model["description"] or "_No description._", ""]
    fields = {**model, "registered_time": _when(model["registered_time"])}
    out += _table(["field", "value"], [[k, v] for k, v in fields.items() if k != "description"])
    out += ["## Intended use", "", card["intended_use"] or "_Not stated._", ""]
    out += ["## Limitations", "", card["limitations"] or "_Not stated._", ""]
    out += ["## Training data", ""]
    for dataset in card["training_data"]:
        out += [f"### {dataset['ref']}", ""]
        rows = dataset.get("rows")
        out += [f"{rows:,} rows." if isinstance(rows, int) else "Row count not profiled.", ""]
        out += _table(["column", "type", "nullable"], [list(c.values()) for c in dataset["schema"]])
    if not card["training_data"]:
        out += ["_No dataset versions were recorded as inputs._", ""]
    out += ["## Parameters", ""]
    out += _table(["param", "value"], [[k, v] for k, v in sorted(card["parameters"].items())])
    evaluation = card["evaluation"]
    out += ["## Evaluation", "", f"Data: {evaluation['data'] or '_not evaluated_'}", ""]
    metrics = {**card["training_metrics"], **evaluation["metrics"]}
    out += _table(["metric", "value"], [[k, v] for k, v in sorted(metrics.items())])
    matrix, labels = evaluation.get("confusion_matrix"), evaluation.get("labels")
    if matrix:
        names = [str(label) for label in labels or range(len(matrix))]
        out += ["### Confusion matrix (rows: actual, columns: predicted)", ""]
        out += _table(
            ["", *names], [[name, *row] for name, row in zip(names, matrix, strict=False)]
        )
    for column, groups in evaluation["slices"].items():
        out += [f"### By {column}", ""]
        names = sorted({k for g in groups.values() for k in g})
        out += _table(
            [column, *names], [[g, *(s.get(n, "") for n in names)] for g, s in groups.items()]
        )
    out += ["## Fairness", ""]
    for column, found in card["fairness"].items():
        gaps = {k: v for k, v in found.items() if k != "groups"}
        out += [f"### {column}: " + ", ".join(f"{k} {_number(v)}" for k, v in gaps.items()), ""]
        names = sorted({k for g in found["groups"].values() for k in g})
        out += _table(
            [column, *names],
            [[g, *(s.get(n, "") for n in names)] for g, s in found["groups"].items()],
        )
    if not card["fairness"]:
        out += ["_No sensitive columns were evaluated._", ""]
    out += ["## Feature importance", ""]
    ranked = sorted(card["feature_importance"].items(), key=lambda kv: -kv[1])
    out += _table(["feature", "importance"], [list(kv) for kv in ranked])
    lineage = card["lineage"]
    chain = [", ".join(lineage["datasets"]) or "?"]
    made_by = lineage.get("policy_run")
    if made_by:
        chain.insert(
            0,
            f"{_trigger_text(made_by['trigger'])} → policy {made_by['policy']} "
            f"run {made_by['run_id']} ({made_by['status']})",
        )
    if lineage["pipeline_run"]:
        chain.append(f"pipeline {lineage['pipeline']} ({lineage['pipeline_run']})")
    chain += [f"run {lineage['run'] or '?'}", f"model {lineage['model_version']}"]
    out += ["## Lineage", "", " → ".join(chain), ""]
    out += ["## Gates", ""]
    out += _table(
        ["when", "against", "passed", "rules"],
        [
            [
                _when(g["time"]),
                g["against"] or "-",
                "passed" if g["passed"] else "FAILED",
                "; ".join(r["rule"] for r in g["rules"]),
            ]
            for g in card["gates"]
        ],
    )
    out += ["## Approvals", ""]
    out += _table(
        ["who", "decision", "comment", "when"],
        [[d["actor"], d["decision"], d["comment"], _when(d["time"])] for d in card["approvals"]],
    )
    return "\n".join(out)
