"""Plain frozen dataclasses for mloop's nouns. No I/O happens here.

Names follow MLflow's where MLflow taught users one (``Run.info.run_id``,
``Run.data.metrics``), so code moves over with few edits.

Example:
    >>> Metric(key="loss", value=0.5, timestamp=0, step=1).key
    'loss'
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")

RUN_NAME_TAG = "mloop.runName"
"""The tag that holds a run's name (MLflow's ``mlflow.runName``); setting it renames the run."""
PARENT_RUN_TAG = "mloop.parentRunId"
"""The tag that holds a nested run's parent id (MLflow's ``mlflow.parentRunId``)."""
MLFLOW_RUN_ID_TAG = "mloop.import.mlflow_run_id"
"""The tag that holds the MLflow run id of a run brought by ``mloop import mlflow``."""


class RunStatus(enum.StrEnum):
    """Where a run is in its life."""

    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminal(self) -> bool:
        """True for FINISHED, FAILED and KILLED."""
        return self in {RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED}


class LifecycleStage(enum.StrEnum):
    """Soft-deletion state of runs and experiments."""

    ACTIVE = "active"
    DELETED = "deleted"


class ViewType(enum.StrEnum):
    """Which lifecycle stages a search returns."""

    ACTIVE_ONLY = "active_only"
    DELETED_ONLY = "deleted_only"
    ALL = "all"


@dataclasses.dataclass(frozen=True, slots=True)
class Metric:
    """One point of a metric series; ``timestamp`` is milliseconds since the epoch."""

    key: str
    value: float
    timestamp: int
    step: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class Param:
    """A run parameter; values are stored as strings, as in MLflow."""

    key: str
    value: str


@dataclasses.dataclass(frozen=True, slots=True)
class RunTag:
    """A run tag: a mutable key/value label (the last value set wins)."""

    key: str
    value: str


@dataclasses.dataclass(frozen=True, slots=True)
class Project:
    """A namespace: experiments, datasets and registered models belong to one.

    Example:
        >>> Project("default", "", 0).name
        'default'
    """

    name: str
    description: str
    created_time: int


@dataclasses.dataclass(frozen=True, slots=True)
class Experiment:
    """A named group of runs."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: LifecycleStage
    creation_time: int
    last_update_time: int
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, slots=True)
class RunInfo:
    """A run's identity and status; times are milliseconds since the epoch.

    ``owner`` (``"<host>:<pid>"``) is the process that created or resumed the
    run, and ``heartbeat_time`` when that process last said it was alive; a
    RUNNING run whose owner is gone is shown as dead
    (:func:`mloop.tracking.liveness.is_dead`), its stored status unchanged.
    """

    run_id: str
    experiment_id: str
    run_name: str
    status: RunStatus
    start_time: int
    end_time: int | None
    lifecycle_stage: LifecycleStage
    artifact_uri: str
    parent_run_id: str | None = None
    error: str | None = None
    owner: str | None = None
    heartbeat_time: int | None = None

    @property
    def run_uuid(self) -> str:
        """Alias of ``run_id`` (MLflow's older name)."""
        return self.run_id


@dataclasses.dataclass(frozen=True, slots=True)
class RunData:
    """A run's params, tags and the latest value of each metric."""

    metrics: Mapping[str, float] = dataclasses.field(default_factory=dict)
    params: Mapping[str, str] = dataclasses.field(default_factory=dict)
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, slots=True)
class RunIO:
    """Something a run consumed (``direction='input'``) or produced (``'output'``), by digest.

    Datasets and models refer to runs through these rows; ``kind`` says which
    domain the digest belongs to (``dataset``, ``model``, ``artifact`` …).
    """

    digest: str
    name: str
    kind: str
    direction: str
    source: str = ""
    context: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class Run:
    """A tracked unit of work.

    Example:
        >>> info = RunInfo("r1", "0", "demo", RunStatus.RUNNING, 0, None,
        ...                LifecycleStage.ACTIVE, "mloop-artifacts:/r1")
        >>> Run(info=info).data.metrics
        {}
    """

    info: RunInfo
    data: RunData = dataclasses.field(default_factory=RunData)
    inputs: tuple[RunIO, ...] = ()
    outputs: tuple[RunIO, ...] = ()


@dataclasses.dataclass(frozen=True)
class RunTable:
    """Runs as columns: one list per field, every list one entry per run, in result order.

    What a search returns when only a table is wanted (``search_runs`` as a
    DataFrame): no per-run objects are built. ``metrics``, ``params`` and
    ``tags`` map each key that any of the runs has to its column; a run
    without the key holds ``None`` there (a NaN metric reads back as ``None``
    too). Times are milliseconds since the epoch.

    Example:
        >>> table = RunTable(["r1"], ["0"], ["demo"], ["FINISHED"], ["a:/r1"], [5], [None],
        ...                  metrics={"loss": [0.5]})
        >>> (len(table), table.metrics["loss"])
        (1, [0.5])
    """

    run_id: list[str]
    experiment_id: list[str]
    run_name: list[str]
    status: list[str]
    artifact_uri: list[str]
    start_time: list[int]
    end_time: list[int | None]
    metrics: dict[str, list[float | None]] = dataclasses.field(default_factory=dict)
    params: dict[str, list[str | None]] = dataclasses.field(default_factory=dict)
    tags: dict[str, list[str | None]] = dataclasses.field(default_factory=dict)
    next_page_token: str | None = None

    def __len__(self) -> int:
        return len(self.run_id)


@dataclasses.dataclass(frozen=True, slots=True)
class ArtifactInfo:
    """One logical artifact path of a run and the object that holds its bytes."""

    path: str
    is_dir: bool
    size: int | None = None
    digest: str | None = None


@dataclasses.dataclass(frozen=True)
class PagedList(Generic[T]):
    """One page of results and the token for the next page (``None`` when done).

    ``token`` is the same token under MLflow's name, so MLflow's paging loop
    (``while page.token:``) reads unchanged.

    Example:
        >>> page = PagedList([1, 2], next_page_token=None)
        >>> (len(page), list(page), page.token)
        (2, [1, 2], None)
    """

    items: Sequence[T]
    next_page_token: str | None = None

    @property
    def token(self) -> str | None:
        """The next page's token (MLflow's name for :attr:`next_page_token`)."""
        return self.next_page_token

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> T:
        return self.items[index]


@dataclasses.dataclass(frozen=True, slots=True)
class DatasetRef:
    """A reference to a dataset version: a version number, a tag, or neither (the latest).

    Parse one from text with :func:`mloop.data.refs.parse_ref`.
    """

    name: str
    version: int | None = None
    tag: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class DatasetFile:
    """One file of a dataset version: its path inside the version, content digest and size."""

    path: str
    digest: str
    size: int


@dataclasses.dataclass(frozen=True, slots=True)
class DatasetVersion:
    """An immutable, numbered snapshot of a dataset's files.

    ``digest`` is the SHA-256 of the manifest (every path with its content
    digest), so equal content always has an equal digest. Anything with a
    ``digest`` can be a run input: ``mloop.log_input(version)``.

    Example:
        >>> v = DatasetVersion("credit", 3, "ab" * 32, 1, 10, 0)
        >>> (v.ref, v.kind)
        ('credit@3', 'dataset')
    """

    name: str
    version: int
    digest: str
    file_count: int
    total_bytes: int
    created_time: int
    run_id: str | None = None
    description: str = ""
    tags: tuple[str, ...] = ()
    files: tuple[DatasetFile, ...] = ()
    profile: Mapping[str, Any] | None = None

    @property
    def ref(self) -> str:
        """``name@version``: how to ask for exactly this version."""
        return f"{self.name}@{self.version}"

    @property
    def kind(self) -> str:
        """What this is when logged as a run input."""
        return "dataset"

    @property
    def source(self) -> str:
        """Where it comes from, for run input records."""
        return f"mloop-dataset:{self.ref}"


# -- models -------------------------------------------------------------------------


class ModelVersionStatus(enum.StrEnum):
    """Whether a model version may be served and take aliases."""

    READY = "READY"
    ARCHIVED = "ARCHIVED"


@dataclasses.dataclass(frozen=True, slots=True)
class ModelFile:
    """One file of a model package: its path inside the package, content digest and size."""

    path: str
    digest: str
    size: int


@dataclasses.dataclass(frozen=True, slots=True)
class RegisteredModel:
    """A named model in the registry, with its aliases (``alias -> version number``).

    ``latest_versions`` is MLflow's field: the latest version in a list (one
    entry, as MLflow gives for a registry without stages; empty for a model
    with no versions). ``mloop.models.get_model`` and ``MlflowClient``'s reads
    fill it; ``mloop.models.list_models`` leaves it empty (``latest_version``
    holds the number).

    Example:
        >>> RegisteredModel("credit", 0, 0, aliases={"champion": 2}).aliases["champion"]
        2
    """

    name: str
    created_time: int
    updated_time: int
    description: str = ""
    owner: str = ""
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    aliases: Mapping[str, int] = dataclasses.field(default_factory=dict)
    latest_version: int | None = None
    latest_versions: Sequence[ModelVersion] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class ModelVersion:
    """A numbered, immutable model package in the registry.

    ``digest`` is the package digest (over its manifest, which lists every
    file's digest); ``signature`` is the Ed25519 signature of that digest by the
    key ``signing_key_id``, when the project signs its models. A version can be
    a run input or output: ``mloop.log_input(version)``.

    Example:
        >>> v = ModelVersion("credit", 3, "ab" * 32, "sklearn", "runs:/r/model", None,
        ...                  ModelVersionStatus.READY, "ana", 0, "cd" * 32)
        >>> (v.ref, v.uri, v.kind, v.aliases)
        ('credit/3', 'models:/credit/3', 'model', [])
    """

    name: str
    version: int
    digest: str
    flavor: str
    source: str
    run_id: str | None
    status: ModelVersionStatus
    created_by: str
    created_time: int
    manifest_digest: str
    description: str = ""
    metrics: Mapping[str, float] = dataclasses.field(default_factory=dict)
    signature: str | None = None
    signing_key_id: str | None = None
    aliases: Sequence[str] = dataclasses.field(default_factory=list)
    """The aliases pointing here, sorted: a list, as MLflow's ``ModelVersion.aliases``."""
    files: tuple[ModelFile, ...] = ()

    def __post_init__(self) -> None:
        # Stores build it from a tuple or any iterable; callers compare it with a list.
        object.__setattr__(self, "aliases", sorted(self.aliases))

    @property
    def ref(self) -> str:
        """``name/version``: how the CLI names exactly this version."""
        return f"{self.name}/{self.version}"

    @property
    def uri(self) -> str:
        """``models:/name/version``: what :func:`mloop.models.load` takes."""
        return f"models:/{self.name}/{self.version}"

    @property
    def kind(self) -> str:
        """What this is when logged as a run input or output."""
        return "model"


@dataclasses.dataclass(frozen=True, slots=True)
class AliasChange:
    """One move of an alias: ``action`` is ``set``, ``rollback`` or ``delete``.

    ``from_version`` is None when the alias was new; ``to_version`` is None when
    it was deleted.
    """

    name: str
    alias: str
    action: str
    from_version: int | None
    to_version: int | None
    actor: str
    reason: str
    time: int


@dataclasses.dataclass(frozen=True, slots=True)
class AliasProtection:
    """What a version needs before it may take a protected alias.

    ``approvals`` distinct approvals (at least one not by the version's author)
    and a passed gate result holding every rule in ``gates``. With
    ``allow_canary``, a deployment serving the alias may send a canary share to
    a version that does not meet them yet (it still needs them to take the alias).
    """

    name: str
    alias: str
    approvals: int
    gates: tuple[str, ...]
    created_by: str
    created_time: int
    allow_canary: bool = False
    """A version that lacks the requirements may still serve a deployment's canary share."""


@dataclasses.dataclass(frozen=True, slots=True)
class Decision:
    """An approval or rejection of a model version, by whom, when and why."""

    name: str
    version: int
    actor: str
    decision: str
    comment: str
    time: int


@dataclasses.dataclass(frozen=True, slots=True)
class GateRecord:
    """A gate's outcome, stored with the version it judged.

    ``rules`` holds one mapping per rule (``rule``, ``passed``, ``value``,
    ``threshold``, ``note``); ``details`` the evaluations behind them.
    """

    name: str
    version: int
    against: str | None
    data: str
    passed: bool
    rules: tuple[Mapping[str, Any], ...]
    actor: str
    time: int
    run_id: str | None = None
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, slots=True)
class EvaluationRecord:
    """An evaluation of a registered version on some data, stored with the version."""

    name: str
    version: int
    data: str
    result: Mapping[str, Any]
    actor: str
    time: int
    run_id: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class SigningKey:
    """A public key the project trusts to sign model packages (Ed25519, base64 of the raw key)."""

    key_id: str
    public_key: str
    created_by: str
    created_time: int
    revoked_time: int | None = None


DEPLOYMENT_MODES = ("canary", "blue-green")
"""How a deployment's second version takes traffic: a share at a time, or all at once."""


@dataclasses.dataclass(frozen=True, slots=True)
class Deployment:
    """A named endpoint: the model versions it serves and how traffic splits between them.

    Versions are named by reference text: ``credit@champion`` (follows the
    alias) or ``credit/3`` (one version). In ``canary`` mode the ``canary``
    takes ``canary_percent`` percent of requests; in ``blue-green`` mode it is
    the idle twin that takes none until a promotion switches everything at
    once. A ``shadow`` receives a copy of every request; its answers are
    logged and never returned. With ``sticky_header``, requests carrying the
    same value of that header always reach the same version. ``policy`` is the
    canary analysis that steps the canary's share up, promotes it or takes it
    out on live evidence (:class:`mloop.serving.canary_policy.CanaryPolicy` as
    plain values), None without one. ``revision`` counts changes from 1; a
    change applies only to the revision its caller read.

    Example:
        >>> Deployment("credit-api", "credit@champion", canary="credit/4", canary_percent=10).mode
        'canary'
    """

    name: str
    primary: str
    canary: str | None = None
    canary_percent: int = 0
    shadow: str | None = None
    sticky_header: str | None = None
    mode: str = "canary"
    policy: Mapping[str, Any] | None = None
    project: str = "default"
    revision: int = 0
    created_by: str = ""
    created_time: int = 0
    updated_by: str = ""
    updated_time: int = 0

    def routing(self) -> dict[str, Any]:
        """What the deployment serves, as plain values (what its history records).

        Example:
            >>> Deployment("api", "credit/1").routing()["primary"]
            'credit/1'
        """
        return {
            "primary": self.primary,
            "canary": self.canary,
            "canary_percent": self.canary_percent,
            "shadow": self.shadow,
            "sticky_header": self.sticky_header,
            "mode": self.mode,
            "policy": None if self.policy is None else dict(self.policy),
        }


@dataclasses.dataclass(frozen=True, slots=True)
class DeploymentChange:
    """One change of a deployment: who made it, when, why, and its routing before and after.

    ``action`` is ``create``, ``set``, ``promote``, ``rollback`` or ``delete``,
    or a canary analysis's ``step`` (the canary's share raised) or ``abort``
    (the canary taken out); ``before`` is None for a create and ``after`` None
    for a delete (both are :meth:`Deployment.routing` mappings). ``alias_move``
    records the alias a promotion moved (``model``, ``alias``, ``from``,
    ``to``), so a rollback can move it back. ``evidence`` is what a canary
    analysis measured to decide the change (None for a change made by hand).
    """

    name: str
    revision: int
    action: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    actor: str
    reason: str
    time: int
    alias_move: Mapping[str, Any] | None = None
    evidence: Mapping[str, Any] | None = None


# -- monitoring and the continuous-training loop ------------------------------------


def _tuple_as_list(entity: object, field: str) -> None:
    # Callers may pass a tuple; stores give back lists (JSON arrays), so both compare
    # equal. Anything else is left for the store to check and refuse.
    value = getattr(entity, field)
    if isinstance(value, tuple):
        object.__setattr__(entity, field, list(value))


MONITOR_REPORT_STATUSES = ("ok", "alerting", "failed", "no-data")
"""What a monitor's run found: nothing wrong, an alert firing, a failure, or no traffic."""


@dataclasses.dataclass(frozen=True, slots=True)
class Monitor:
    """A named, scheduled check of a deployment's or a dataset's data against a reference.

    ``target`` says what is watched (``deployment:credit-api``,
    ``dataset:credit``); ``reference`` the dataset version it is compared
    with (``credit@train``). ``schedule`` is an interval (``15m``, ``1h``,
    ``1d``) or a five-field cron expression, ``window`` the interval of data
    each run looks at (:func:`mloop.monitoring.schedule.parse_schedule` reads
    both). ``checks``, ``rules`` (rule texts) and ``notifiers`` (notifier
    specs, whose secrets are ``${NAME}`` references) are JSON lists; ``state``
    is what the monitor carries from one run to the next (its alerts and rule
    trackers). Times are milliseconds since the epoch; ``next_run_time`` is
    None until the first run is planned.

    Example:
        >>> m = Monitor("credit-drift", "deployment:credit-api", "credit@train", "1h", "1d",
        ...             checks=[{"kind": "drift"}], rules=["drift.share > 0.3"])
        >>> (m.name, m.paused, m.checks, m.notifiers)
        ('credit-drift', False, [{'kind': 'drift'}], [])
    """

    name: str
    target: str
    reference: str
    schedule: str
    window: str
    checks: Sequence[Any] = dataclasses.field(default_factory=list)
    rules: Sequence[str] = dataclasses.field(default_factory=list)
    notifiers: Sequence[Mapping[str, Any]] = dataclasses.field(default_factory=list)
    state: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    paused: bool = False
    project: str = "default"
    created_time: int = 0
    updated_time: int = 0
    last_run_time: int | None = None
    next_run_time: int | None = None

    def __post_init__(self) -> None:
        for field in ("checks", "rules", "notifiers"):
            _tuple_as_list(self, field)


@dataclasses.dataclass(frozen=True, slots=True)
class MonitorReport:
    """What one run of a monitor found over one window of data.

    ``status`` is one of :data:`MONITOR_REPORT_STATUSES`; ``results`` holds
    each check's figures, ``alerts`` the alerts that fired or resolved, and
    ``error`` what went wrong when the status is ``failed``. ``model_versions``
    are the versions (``credit/3``) that answered the requests in the window.
    The store gives ``report_id`` and ``created_time``.

    Example:
        >>> r = MonitorReport("credit-drift", 0, 3_600_000, "ok", model_versions=["credit/3"])
        >>> (r.status, r.model_versions, r.report_id)
        ('ok', ['credit/3'], '')
    """

    monitor: str
    window_start: int
    window_end: int
    status: str
    reference: str = ""
    model_versions: Sequence[str] = dataclasses.field(default_factory=list)
    results: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    alerts: Sequence[Any] = dataclasses.field(default_factory=list)
    error: str | None = None
    report_id: str = ""
    created_time: int = 0

    def __post_init__(self) -> None:
        for field in ("model_versions", "alerts"):
            _tuple_as_list(self, field)


POLICY_TRIGGERS = ("alert", "dataset", "schedule")
"""What starts a policy: a monitor's alert, a new dataset version, or a schedule."""

POLICY_RUN_STATUSES = (
    "running",
    "waiting-approval",
    "succeeded",
    "failed",
    "rolled-back",
    "cancelled",
)
"""Where a policy run is: at work, waiting for a person, or finished one of four ways."""

POLICY_RUN_FINISHED = frozenset({"succeeded", "failed", "rolled-back", "cancelled"})
"""The statuses a policy run does not leave (except ``succeeded``, which a rollback ends)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Policy:
    """A continuous-training rule: on a trigger, run a pipeline, gate it, and deploy it.

    ``trigger`` is ``{"on": "alert", "monitor": ..., "rule": ...}``,
    ``{"on": "dataset", "name": ...}`` or ``{"on": "schedule", "cron": ...}``;
    ``spec`` says what to run and how to promote (pipeline, parameters, gate
    rules, deployment, canary settings); ``state`` is what the policy carries
    between runs. Times are milliseconds since the epoch.

    Example:
        >>> p = Policy("retrain-credit", {"on": "dataset", "name": "credit"},
        ...            {"pipeline": "training"})
        >>> (p.trigger["on"], p.paused)
        ('dataset', False)
    """

    name: str
    trigger: Mapping[str, Any]
    spec: Mapping[str, Any]
    paused: bool = False
    state: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    project: str = "default"
    created_time: int = 0
    updated_time: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class PolicyRun:
    """One run of a policy: what set it off and the chain of steps it took.

    ``status`` is one of :data:`POLICY_RUN_STATUSES`; ``chain`` lists the steps
    in order, each a mapping naming the step and what it made
    (``{"step": "pipeline-run", "id": "…"}``, ``{"step": "gate", "passed":
    true}``), so the lineage from trigger to deployment is one read.

    Example:
        >>> run = PolicyRun("ab" * 16, "retrain-credit", "running", {"on": "dataset"}, 5)
        >>> (run.finished, run.chain)
        (False, [])
    """

    run_id: str
    policy: str
    status: str
    trigger_event: Mapping[str, Any]
    started_time: int
    chain: Sequence[Mapping[str, Any]] = dataclasses.field(default_factory=list)
    ended_time: int | None = None
    error: str | None = None
    updated_time: int = 0

    def __post_init__(self) -> None:
        _tuple_as_list(self, "chain")

    @property
    def finished(self) -> bool:
        """True once the run succeeded, failed, was rolled back or cancelled."""
        return self.status in POLICY_RUN_FINISHED


@dataclasses.dataclass(frozen=True, slots=True)
class Lease:
    """A claim on a job (``monitor:credit-drift``) by one holder until ``expires_time``.

    The agent that holds a job's lease is the only one running it; a lease
    that is not renewed expires and another agent may take the job over.

    Example:
        >>> Lease("monitor:credit-drift", "host:42", 0, 30_000).expires_time
        30000
    """

    job: str
    holder: str
    acquired_time: int
    expires_time: int
