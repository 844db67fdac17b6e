"""The SQL schema of the metadata store: one MetaData for all domains.

The Alembic history in ``migrations/versions`` produces exactly this schema
(a test compares the two); :data:`HEAD_REVISION` names its newest revision so
a brand-new database can be created in one step and stamped without loading
Alembic.
"""

from __future__ import annotations

import sqlalchemy as sa

HEAD_REVISION = "0012"

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only aliases the rowid for a column declared exactly INTEGER PRIMARY KEY.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Millis = sa.BigInteger

# Facts about the store itself, one row per key: its identity ("store_id"),
# written at creation and recorded in the artifact store it is paired with.
store_meta = sa.Table(
    "store_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# Namespaces: experiments, datasets and registered models belong to one, and
# their names are unique within it. Every store has project "default" (id 1).
projects = sa.Table(
    "projects",
    metadata,
    sa.Column("project_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("created_time", Millis, nullable=False),
)

DEFAULT_PROJECT_ID = 1
"""The id of project ``default``, created with the store (or by the migration to 0006)."""


def _project_fk() -> sa.ForeignKey:
    return sa.ForeignKey("projects.project_id")


experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("experiment_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project_id", BigId, _project_fk(), nullable=False),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("artifact_location", sa.String(1000), nullable=False),
    sa.Column("lifecycle_stage", sa.String(16), nullable=False),
    sa.Column("creation_time", Millis, nullable=False),
    sa.Column("last_update_time", Millis, nullable=False),
    sa.UniqueConstraint("project_id", "name"),
)

experiment_tags = sa.Table(
    "experiment_tags",
    metadata,
    sa.Column(
        "experiment_id",
        BigId,
        sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

environments = sa.Table(
    "environments",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("python_version", sa.String(64), nullable=False),
    sa.Column("platform", sa.String(256), nullable=False),
    sa.Column("packages", sa.Text, nullable=False),
    sa.Column("created_time", Millis, nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.String(32), primary_key=True),
    sa.Column(
        "experiment_id",
        BigId,
        sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", sa.String(250), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("start_time", Millis, nullable=False),
    sa.Column("end_time", Millis, nullable=True),
    sa.Column("lifecycle_stage", sa.String(16), nullable=False),
    sa.Column("deleted_time", Millis, nullable=True),
    sa.Column("artifact_uri", sa.String(1000), nullable=False),
    sa.Column("parent_run_id", sa.String(32), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("env_digest", sa.String(64), sa.ForeignKey("environments.digest"), nullable=True),
    # Who is writing a RUNNING run ("host:pid") and when it last said it was alive,
    # so a run whose process died can be told from one still running.
    sa.Column("owner", sa.String(300), nullable=True),
    sa.Column("heartbeat_time", Millis, nullable=True),
    sa.Index(None, "experiment_id", "start_time"),
    sa.Index(None, "parent_run_id"),
)


def _run_fk() -> sa.ForeignKey:
    return sa.ForeignKey("runs.run_id", ondelete="CASCADE")


params = sa.Table(
    "params",
    metadata,
    sa.Column("run_id", sa.String(32), _run_fk(), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.String(8000), nullable=False),
    sa.Index(None, "key", "value"),
    # Rows stored in (run_id, key) order: a run's params are read in one seek.
    sqlite_with_rowid=False,
)

tags = sa.Table(
    "tags",
    metadata,
    sa.Column("run_id", sa.String(32), _run_fk(), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sqlite_with_rowid=False,
)

# Every logged point. ``value`` is NULL for NaN: SQLite cannot store NaN.
metrics = sa.Table(
    "metrics",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(32), _run_fk(), nullable=False),
    sa.Column("key", sa.String(250), nullable=False),
    sa.Column("value", sa.Double, nullable=True),
    sa.Column("timestamp", Millis, nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Index(None, "run_id", "key", "step"),
)

# The newest point of each series (highest step, then timestamp), kept on
# write so searches never scan the history.
latest_metrics = sa.Table(
    "latest_metrics",
    metadata,
    sa.Column("run_id", sa.String(32), _run_fk(), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Double, nullable=True),
    sa.Column("timestamp", Millis, nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Index(None, "key", "value"),
    sqlite_with_rowid=False,
)

artifacts = sa.Table(
    "artifacts",
    metadata,
    sa.Column("run_id", sa.String(32), _run_fk(), primary_key=True),
    sa.Column("path", sa.String(1000), primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("created_time", Millis, nullable=False),
    sa.Index(None, "digest"),
)

run_io = sa.Table(
    "run_io",
    metadata,
    sa.Column("run_id", sa.String(32), _run_fk(), primary_key=True),
    sa.Column("direction", sa.String(8), primary_key=True),
    sa.Column("digest", sa.String(128), primary_key=True),
    sa.Column("context", sa.String(250), primary_key=True),
    sa.Column("name", sa.String(250), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Index(None, "digest"),
)


# -- data: named datasets, immutable versions, their file manifests, movable tags --

datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column("dataset_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project_id", BigId, _project_fk(), nullable=False),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("created_time", Millis, nullable=False),
    # Numbers are never reused, even after a version is removed.
    sa.Column("last_version", sa.Integer, nullable=False),
    sa.UniqueConstraint("project_id", "name"),
)

dataset_versions = sa.Table(
    "dataset_versions",
    metadata,
    sa.Column("version_id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "dataset_id",
        BigId,
        sa.ForeignKey("datasets.dataset_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("file_count", sa.Integer, nullable=False),
    sa.Column("total_bytes", sa.BigInteger, nullable=False),
    sa.Column("created_time", Millis, nullable=False),
    sa.Column("run_id", sa.String(32), nullable=True),
    sa.Column("description", sa.Text, nullable=False),
    # Schema and statistics of the tabular files, as JSON (NULL when there are none).
    sa.Column("profile", sa.Text, nullable=True),
    sa.UniqueConstraint("dataset_id", "version"),
    sa.Index(None, "dataset_id", "digest"),
    sa.Index(None, "run_id"),
)

dataset_files = sa.Table(
    "dataset_files",
    metadata,
    sa.Column(
        "version_id",
        BigId,
        sa.ForeignKey("dataset_versions.version_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("path", sa.String(1000), primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Index(None, "digest"),
)

dataset_validations = sa.Table(
    "dataset_validations",
    metadata,
    sa.Column("validation_id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "version_id",
        BigId,
        sa.ForeignKey("dataset_versions.version_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("suite", sa.String(256), nullable=False),
    sa.Column("success", sa.Boolean, nullable=False),
    sa.Column("result", sa.Text, nullable=False),
    sa.Column("run_id", sa.String(32), nullable=True),
    sa.Column("created_time", Millis, nullable=False),
    sa.Index(None, "version_id", "created_time"),
)

# Summaries computed from a version's rows (a drift reference profile), kept in the
# content store: one object per version and kind, kept by garbage collection.
dataset_profiles = sa.Table(
    "dataset_profiles",
    metadata,
    sa.Column(
        "version_id",
        BigId,
        sa.ForeignKey("dataset_versions.version_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("kind", sa.String(64), primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("created_time", Millis, nullable=False),
)

dataset_tags = sa.Table(
    "dataset_tags",
    metadata,
    sa.Column(
        "dataset_id",
        BigId,
        sa.ForeignKey("datasets.dataset_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("tag", sa.String(250), primary_key=True),
    sa.Column(
        "version_id",
        BigId,
        sa.ForeignKey("dataset_versions.version_id", ondelete="CASCADE"),
        nullable=False,
    ),
)

# A successful step run by the hash of what determines its outputs (code,
# params, input digests, materializers); a later run with the same key reuses
# its outputs instead of running the step.
step_cache = sa.Table(
    "step_cache",
    metadata,
    sa.Column("cache_key", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.String(32), nullable=False, index=True),
    sa.Column("outputs", sa.Text, nullable=False),
    sa.Column("created_time", sa.BigInteger, nullable=False),
)


# -- models: registered models, numbered versions, aliases with history, governance --

registered_models = sa.Table(
    "registered_models",
    metadata,
    sa.Column("model_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project_id", BigId, _project_fk(), nullable=False),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("owner", sa.String(256), nullable=False),
    sa.Column("created_time", Millis, nullable=False),
    sa.Column("updated_time", Millis, nullable=False),
    # Numbers are never reused, even after a version is deleted.
    sa.Column("last_version", sa.Integer, nullable=False),
    sa.UniqueConstraint("project_id", "name"),
)


def _model_fk() -> sa.ForeignKey:
    return sa.ForeignKey("registered_models.model_id", ondelete="CASCADE")


def _version_fk() -> sa.ForeignKey:
    return sa.ForeignKey("model_versions.version_id", ondelete="CASCADE")


registered_model_tags = sa.Table(
    "registered_model_tags",
    metadata,
    sa.Column("model_id", BigId, _model_fk(), primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column("version_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("model_id", BigId, _model_fk(), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    # The package digest (over the manifest) and the object holding the manifest's bytes.
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("manifest_digest", sa.String(64), nullable=False),
    sa.Column("flavor", sa.String(64), nullable=False),
    sa.Column("source", sa.String(1000), nullable=False),
    sa.Column("run_id", sa.String(32), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_by", sa.String(256), nullable=False),
    sa.Column("created_time", Millis, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    # The source run's metrics when the version was registered, as JSON.
    sa.Column("metrics", sa.Text, nullable=False),
    sa.Column("signature", sa.Text, nullable=True),
    sa.Column("signing_key_id", sa.String(64), nullable=True),
    sa.UniqueConstraint("model_id", "version"),
    sa.Index(None, "digest"),
    sa.Index(None, "run_id"),
)

model_version_files = sa.Table(
    "model_version_files",
    metadata,
    sa.Column("version_id", BigId, _version_fk(), primary_key=True),
    sa.Column("path", sa.String(1000), primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Index(None, "digest"),
)

model_aliases = sa.Table(
    "model_aliases",
    metadata,
    sa.Column("model_id", BigId, _model_fk(), primary_key=True),
    sa.Column("alias", sa.String(128), primary_key=True),
    sa.Column("version_id", BigId, _version_fk(), nullable=False),
)

# Every move of an alias; version numbers, not keys, so history outlives deleted versions.
model_alias_history = sa.Table(
    "model_alias_history",
    metadata,
    sa.Column("change_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("model_id", BigId, _model_fk(), nullable=False),
    sa.Column("alias", sa.String(128), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("from_version", sa.Integer, nullable=True),
    sa.Column("to_version", sa.Integer, nullable=True),
    sa.Column("actor", sa.String(256), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_time", Millis, nullable=False),
    sa.Index(None, "model_id", "alias"),
)

alias_protections = sa.Table(
    "alias_protections",
    metadata,
    sa.Column("model_id", BigId, _model_fk(), primary_key=True),
    sa.Column("alias", sa.String(128), primary_key=True),
    sa.Column("approvals", sa.Integer, nullable=False),
    sa.Column("gates", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(256), nullable=False),
    sa.Column("created_time", Millis, nullable=False),
    # A version short of the requirements may still take a deployment's canary share.
    sa.Column("allow_canary", sa.Boolean, nullable=False, server_default=sa.false()),
)

model_decisions = sa.Table(
    "model_decisions",
    metadata,
    sa.Column("decision_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("version_id", BigId, _version_fk(), nullable=False),
    sa.Column("actor", sa.String(256), nullable=False),
    sa.Column("decision", sa.String(16), nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("created_time", Millis, nullable=False),
    sa.Index(None, "version_id"),
)

model_gate_results = sa.Table(
    "model_gate_results",
    metadata,
    sa.Column("gate_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("version_id", BigId, _version_fk(), nullable=False),
    sa.Column("against", sa.String(300), nullable=True),
    sa.Column("data", sa.String(1000), nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("rules", sa.Text, nullable=False),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("actor", sa.String(256), nullable=False),
    sa.Column("run_id", sa.String(32), nullable=True),
    sa.Column("created_time", Millis, nullable=False),
    sa.Index(None, "version_id"),
)

model_evaluations = sa.Table(
    "model_evaluations",
    metadata,
    sa.Column("evaluation_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("version_id", BigId, _version_fk(), nullable=False),
    sa.Column("data", sa.String(1000), nullable=False),
    sa.Column("result", sa.Text, nullable=False),
    sa.Column("actor", sa.String(256), nullable=False),
    sa.Column("run_id", sa.String(32), nullable=True),
    sa.Column("created_time", Millis, nullable=False),
    sa.Index(None, "version_id"),
)

# Public keys the project trusts to sign model packages; private keys never enter the store.
signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("key_id", sa.String(64), primary_key=True),
    sa.Column("public_key", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(256), nullable=False),
    sa.Column("created_time", Millis, nullable=False),
    sa.Column("revoked_time", Millis, nullable=True),
)


# -- serving: deployments (named endpoints and their traffic split) with history --

# Model references are text ("credit@champion", "credit/3"): a deployment follows
# an alias wherever it moves, and outlives the versions it once named.
deployments = sa.Table(
    "deployments",
    metadata,
    sa.Column("deployment_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project_id", BigId, _project_fk(), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("primary_ref", sa.String(600), nullable=False),
    sa.Column("canary_ref", sa.String(600), nullable=True),
    sa.Column("canary_percent", sa.Integer, nullable=False),
    sa.Column("shadow_ref", sa.String(600), nullable=True),
    sa.Column("sticky_header", sa.String(128), nullable=True),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("policy", sa.Text, nullable=True),  # the canary analysis, as JSON
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("created_by", sa.String(256), nullable=False),
    sa.Column("created_time", Millis, nullable=False),
    sa.Column("updated_by", sa.String(256), nullable=False),
    sa.Column("updated_time", Millis, nullable=False),
    sa.UniqueConstraint("project_id", "name"),
)

# Every change of a deployment, by project and name (not key), so the history of a
# deleted deployment stays readable; routing before and after as JSON.
deployment_history = sa.Table(
    "deployment_history",
    metadata,
    sa.Column("change_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project_id", BigId, _project_fk(), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("before", sa.Text, nullable=True),
    sa.Column("after", sa.Text, nullable=True),
    sa.Column("alias_move", sa.Text, nullable=True),
    sa.Column("evidence", sa.Text, nullable=True),  # what a canary analysis measured
    sa.Column("actor", sa.String(256), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_time", Millis, nullable=False),
    sa.Index(None, "project_id", "name"),
)


# -- monitoring: monitors and their reports; automation: policies, their runs; agent leases --

# A monitor's lists and state are JSON text; its reports go with it.
monitors = sa.Table(
    "monitors",
    metadata,
    sa.Column("monitor_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project_id", BigId, _project_fk(), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("target", sa.String(600), nullable=False),
    sa.Column("reference", sa.String(600), nullable=False),
    sa.Column("schedule", sa.String(600), nullable=False),
    sa.Column("run_window", sa.String(600), nullable=False),
    sa.Column("checks", sa.Text, nullable=False),
    sa.Column("rules", sa.Text, nullable=False),
    sa.Column("notifiers", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("paused", sa.Boolean, nullable=False),
    sa.Column("created_time", Millis, nullable=False),
    sa.Column("updated_time", Millis, nullable=False),
    sa.Column("last_run_time", Millis, nullable=True),
    sa.Column("next_run_time", Millis, nullable=True),
    sa.UniqueConstraint("project_id", "name"),
    sa.Index(None, "project_id", "next_run_time"),
)

monitor_reports = sa.Table(
    "monitor_reports",
    metadata,
    sa.Column("report_id", sa.String(32), primary_key=True),
    sa.Column(
        "monitor_id",
        BigId,
        sa.ForeignKey("monitors.monitor_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("window_start", Millis, nullable=False),
    sa.Column("window_end", Millis, nullable=False),
    sa.Column("created_time", Millis, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reference", sa.String(600), nullable=False),
    sa.Column("model_versions", sa.Text, nullable=False),
    sa.Column("results", sa.Text, nullable=False),
    sa.Column("alerts", sa.Text, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Index(None, "monitor_id", "window_end"),
)

# A policy's trigger, spec and state are JSON text; its runs go with it.
policies = sa.Table(
    "policies",
    metadata,
    sa.Column("policy_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("project_id", BigId, _project_fk(), nullable=False),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("trigger_spec", sa.Text, nullable=False),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("paused", sa.Boolean, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("created_time", Millis, nullable=False),
    sa.Column("updated_time", Millis, nullable=False),
    sa.UniqueConstraint("project_id", "name"),
)

policy_runs = sa.Table(
    "policy_runs",
    metadata,
    sa.Column("run_id", sa.String(32), primary_key=True),
    sa.Column(
        "policy_id",
        BigId,
        sa.ForeignKey("policies.policy_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("trigger_event", sa.Text, nullable=False),
    sa.Column("chain", sa.Text, nullable=False),  # the steps taken, a JSON list
    sa.Column("started_time", Millis, nullable=False),
    sa.Column("ended_time", Millis, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("updated_time", Millis, nullable=False),
    sa.Index(None, "policy_id", "started_time"),
)

# Which agent runs a job (a monitor, a policy) until when: one row per job and project.
leases = sa.Table(
    "leases",
    metadata,
    sa.Column("project_id", BigId, _project_fk(), primary_key=True),
    sa.Column("job", sa.String(300), primary_key=True),
    sa.Column("holder", sa.String(300), nullable=False),
    sa.Column("acquired_time", Millis, nullable=False),
    sa.Column("expires_time", Millis, nullable=False),
)
