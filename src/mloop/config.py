"""Settings: ``MLOOP_*`` environment variables > ``[tool.mloop]`` in pyproject.toml > defaults.

MLflow's variables that have an mloop twin (:data:`MLFLOW_VARIABLES`) are read
as that twin when the ``MLOOP_*`` variable is not set.

One frozen :class:`Settings` object, built by :func:`load_settings` when it is
needed (never at import time) and passed explicitly to whatever uses it.

Example:
    >>> s = load_settings(environ={"MLOOP_HOME": "/tmp/x"}, cwd="/")
    >>> s.resolved_tracking_uri()
    'sqlite:////tmp/x/mloop.db'
"""

from __future__ import annotations

import dataclasses
import getpass
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mloop.errors import InvalidInput

TRACKING_URI_FORMS = (
    "use a folder that holds the store (./mlruns, or file:./mlruns; its mloop.db and "
    "artifacts/ go inside), sqlite:///path/to/mloop.db, or "
    "postgresql://user@host/database"
)
"""The tracking URI forms mloop accepts, for error messages."""

_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*):(?P<rest>.*)$", re.DOTALL)
# Values that MLflow gives a meaning other than a folder; never make folders of them.
_NOT_FOLDERS = frozenset({"databricks", "databricks-uc", "uc"})


DEFAULT_PROJECT = "default"
"""The project everything belongs to unless another is named."""

_PROJECT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_project_name(name: str) -> str:
    """A valid project name, unchanged: 1 to 64 letters, digits, ``.``, ``_`` or ``-``.

    Project names appear in URLs and command lines, so they are kept plain.

    Raises:
        InvalidInput: any other name, with what is allowed.

    Example:
        >>> check_project_name("fraud-2027")
        'fraud-2027'
    """
    if not isinstance(name, str) or not _PROJECT_NAME.match(name):
        raise InvalidInput(
            f"project name {name!r} is not valid: use 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


_LIBPQ_KEYWORD = re.compile(
    r"(?:^|\s)(?:host|hostaddr|dbname|user|password|port|sslmode|service)\s*=", re.IGNORECASE
)


def tracking_uri_from(text: str, base: Path | None = None) -> str:
    """The metadata store URL that a tracking URI as a user writes it names.

    ``file:PATH``, ``file://PATH`` and a plain path name a folder holding the
    store: its ``mloop.db`` (and, by default, its ``artifacts/``), as
    ``MLOOP_HOME`` does; a path to an existing file names that SQLite file.
    Relative paths are taken from ``base`` (default: the working directory).
    Database URLs pass through unchanged; :mod:`mloop.store.registry`
    checks their scheme when the store is opened.

    Raises:
        InvalidInput: an empty value, or a word MLflow reserves (``databricks``).

    Example:
        >>> tracking_uri_from("file:/srv/mlruns")
        'sqlite:////srv/mlruns/mloop.db'
        >>> tracking_uri_from("mlruns", base=Path("/work"))
        'sqlite:////work/mlruns/mloop.db'
        >>> tracking_uri_from("postgresql://u@db/mloop")
        'postgresql://u@db/mloop'
    """
    text = text.strip()
    if _LIBPQ_KEYWORD.search(text):  # never echo it: it may hold a password
        raise InvalidInput(
            "the tracking URI looks like a PostgreSQL keyword connection string "
            "(host=… dbname=…); write it as a URL: postgresql://USER:PASSWORD@HOST:PORT/DBNAME"
        )
    match = _SCHEME.match(text)
    if match is None or len(match["scheme"]) == 1:  # no scheme, or a Windows drive letter
        if text.lower() in _NOT_FOLDERS or not text:
            raise InvalidInput(
                f"tracking URI {text!r} is not something mloop can store runs in; "
                f"{TRACKING_URI_FORMS}"
            )
        return _folder_store(text, base)
    if match["scheme"].lower() != "file":
        return text
    path = match["rest"]
    if path.startswith("//"):  # file://PATH, file:///abs/path, file://localhost/abs/path
        path = path[2:]
        path = path[len("localhost") :] if path.startswith("localhost/") else path
    if not path:
        raise InvalidInput(f"tracking URI {text!r} names no folder; {TRACKING_URI_FORMS}")
    return _folder_store(path, base)


def _folder_store(text: str, base: Path | None) -> str:
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = (base or Path.cwd()) / path
    path = Path(os.path.normpath(path))
    return f"sqlite:///{path if path.is_file() else path / 'mloop.db'}"


_SQLITE_URL = re.compile(r"^sqlite(\+\w+)?:///(?P<database>[^?]*)")


def sqlite_file(uri: str) -> Path | None:
    """The database file a ``sqlite:///`` URL names, or None (in memory, other URLs).

    Parsed by hand: importing SQLAlchemy here would make ``import mloop`` heavy.

    Example:
        >>> sqlite_file("sqlite:////srv/mloop.db")
        PosixPath('/srv/mloop.db')
        >>> sqlite_file("postgresql://u@h/db") is None
        True
    """
    match = _SQLITE_URL.match(uri)
    if match is None:
        return None
    database = match["database"]
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database).expanduser().absolute()


def _sqlite_artifacts(uri: str) -> Path | None:
    """Where a SQLite file store keeps its artifacts by default, or None for other URLs.

    ``…/mloop.db`` keeps them in ``…/artifacts`` (the layout of ``MLOOP_HOME``);
    any other file, ``…/NAME.db``, in ``…/NAME-artifacts``, so that two stores
    in one folder never share (and garbage-collect) one artifact store.
    """
    path = sqlite_file(uri)
    if path is None:
        return None
    return path.parent / ("artifacts" if path.name == "mloop.db" else f"{path.stem}-artifacts")


@dataclasses.dataclass(frozen=True)
class Settings:
    """mloop's settings; each field's metadata names its environment variable and its use."""

    home: Path = dataclasses.field(
        default=Path(".mloop"),
        metadata={"env": "MLOOP_HOME", "doc": "Root of the local stores."},
    )
    tracking_uri: str | None = dataclasses.field(
        default=None,
        metadata={
            "env": "MLOOP_TRACKING_URI",
            "mlflow_env": "MLFLOW_TRACKING_URI",
            "doc": "Metadata store: a folder holding it (PATH or file:PATH), "
            "sqlite:///path/to/mloop.db or postgresql://user@host/db; "
            "default sqlite:///<home>/mloop.db.",
        },
    )
    artifacts_uri: str | None = dataclasses.field(
        default=None,
        metadata={
            "env": "MLOOP_ARTIFACTS_URI",
            "doc": "Artifact store root (path or fsspec URL); default beside a SQLite store "
            "(artifacts/ next to mloop.db, NAME-artifacts/ next to any other NAME.db), else "
            "<home>/artifacts.",
        },
    )
    flush_interval: float = dataclasses.field(
        default=0.5,
        metadata={
            "env": "MLOOP_FLUSH_INTERVAL",
            "doc": "Seconds between background writes of buffered metrics.",
        },
    )
    batch_size: int = dataclasses.field(
        default=20_000,
        metadata={
            "env": "MLOOP_BATCH_SIZE",
            "doc": "Buffered points that wake the background writer early.",
        },
    )
    max_pending: int = dataclasses.field(
        default=200_000,
        metadata={
            "env": "MLOOP_MAX_PENDING",
            "doc": "Buffered points at which logging writes synchronously (bounds memory).",
        },
    )
    capture_environment: bool = dataclasses.field(
        default=True,
        metadata={
            "env": "MLOOP_CAPTURE_ENVIRONMENT",
            "doc": "Record git state, command line, Python, platform and packages on each run.",
        },
    )
    log_system_metrics: bool = dataclasses.field(
        default=False,
        metadata={
            "env": "MLOOP_LOG_SYSTEM_METRICS",
            "mlflow_env": "MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING",
            "doc": "Log CPU, memory, disk, network and GPU metrics (system/...) for every run "
            "(needs the system extra).",
        },
    )
    system_metrics_interval: float = dataclasses.field(
        default=10.0,
        metadata={
            "env": "MLOOP_SYSTEM_METRICS_INTERVAL",
            "mlflow_env": "MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL",
            "doc": "Seconds between two samples of the system metrics.",
        },
    )
    gc_grace_seconds: float = dataclasses.field(
        default=3600.0,
        metadata={
            "env": "MLOOP_GC_GRACE_SECONDS",
            "doc": "Unreferenced artifact objects younger than this survive `mloop gc`.",
        },
    )

    project: str = dataclasses.field(
        default=DEFAULT_PROJECT,
        metadata={
            "env": "MLOOP_PROJECT",
            "doc": "Project that experiments, datasets and registered models belong to.",
        },
    )
    experiment_name: str | None = dataclasses.field(
        default=None,
        metadata={
            "env": "MLOOP_EXPERIMENT_NAME",
            "mlflow_env": "MLFLOW_EXPERIMENT_NAME",
            "doc": "Experiment that runs go to when none is set; default Default.",
        },
    )
    user: str | None = dataclasses.field(
        default=None,
        metadata={
            "env": "MLOOP_USER",
            "doc": "Who acts (registers, approves, moves aliases); default the OS user.",
        },
    )
    secret_key: str | None = dataclasses.field(
        default=None,
        repr=False,
        metadata={
            "env": "MLOOP_SECRET_KEY",
            "doc": "Key of the keyed hashes that pseudonymize data; default <home>/secret.key. "
            "Environment only, never pyproject.toml.",
            "secret": True,
        },
    )
    signing_key: Path | None = dataclasses.field(
        default=None,
        metadata={
            "env": "MLOOP_SIGNING_KEY",
            "doc": "Private Ed25519 key signing model packages; default <home>/keys/signing.pem.",
        },
    )
    require_signatures: str = dataclasses.field(
        default="auto",
        metadata={
            "env": "MLOOP_REQUIRE_SIGNATURES",
            "doc": "Refuse unsigned model packages: auto (once the project trusts a key), "
            "true or false.",
        },
    )
    model_cache_size: int = dataclasses.field(
        default=8,
        metadata={
            "env": "MLOOP_MODEL_CACHE_SIZE",
            "doc": "Loaded models kept in memory per process, by package digest.",
        },
    )

    def __post_init__(self) -> None:
        check_project_name(self.project)
        if self.require_signatures not in ("auto", "true", "false"):
            raise InvalidInput(
                f"require_signatures must be auto, true or false, got {self.require_signatures!r}"
            )
        if not self.system_metrics_interval > 0:
            raise InvalidInput(
                f"system_metrics_interval must be > 0 seconds, got {self.system_metrics_interval}"
            )
        if self.model_cache_size < 0:
            raise InvalidInput(f"model_cache_size must be >= 0, got {self.model_cache_size}")

    def resolved_user(self) -> str:
        """Who is acting: ``MLOOP_USER``, else the operating system's user name."""
        if self.user:
            return self.user
        try:
            return getpass.getuser()
        except (KeyError, OSError):  # no name for this uid (containers)
            return f"uid-{os.getuid()}" if hasattr(os, "getuid") else "unknown"

    def resolved_signing_key(self) -> Path:
        """The private signing key's path, defaulting to ``<home>/keys/signing.pem``."""
        return (self.signing_key or self.home / "keys" / "signing.pem").absolute()

    def scratch_fallback(self) -> Path:
        """Where scratch goes when the artifact store is not a local folder: ``<home>/tmp``."""
        return (self.home / "tmp").absolute()

    def resolved_tracking_uri(self) -> str:
        """The metadata store URL (see :func:`tracking_uri_from`); default SQLite under ``home``.

        Raises:
            InvalidInput: a tracking URI that names no store.
        """
        if self.tracking_uri:
            return tracking_uri_from(self.tracking_uri)
        return f"sqlite:///{self.home.absolute()}/mloop.db"

    def local_root(self) -> Path:
        """Where local copies of models and datasets (and tuning journals) are kept.

        ``home``, unless it is left at its default and the tracking URI names a
        store folder (its ``mloop.db``): then that folder, so that a store named
        by ``MLOOP_TRACKING_URI`` alone leaves nothing in the working directory.

        Example:
            >>> Settings(tracking_uri="/srv/store").local_root()
            PosixPath('/srv/store')
            >>> Settings(home=Path("/srv/home"), tracking_uri="/srv/store").local_root()
            PosixPath('/srv/home')
        """
        if self.tracking_uri and self.home == Path(".mloop"):
            path = sqlite_file(self.resolved_tracking_uri())
            if path is not None and path.name == "mloop.db":
                return path.parent
        return self.home.expanduser().absolute()

    def resolved_artifacts_uri(self) -> str:
        """The artifact store root: beside a SQLite store, else ``<home>/artifacts``.

        A store's two halves stay together: a tracking URI naming a folder (or
        its ``mloop.db``) keeps its artifacts in ``artifacts/`` there, like
        ``MLOOP_HOME``; another SQLite file ``NAME.db`` in ``NAME-artifacts/``.
        """
        if self.artifacts_uri:
            return self.artifacts_uri
        beside = _sqlite_artifacts(self.resolved_tracking_uri()) if self.tracking_uri else None
        return str(beside or (self.home / "artifacts").absolute())


def _find_pyproject(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _pyproject_table(cwd: Path) -> dict[str, Any]:
    path = _find_pyproject(cwd)
    if path is None:
        return {}
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as err:
        raise InvalidInput(f"{path} is not valid TOML ({err}); fix it or remove it") from err
    tool = document.get("tool", {})
    table = tool.get("mloop", {}) if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        raise InvalidInput(f"[tool.mloop] in {path} must be a table of settings")
    # A relative home (or key) is relative to the pyproject.toml that names it, not the
    # working directory, so every subfolder of a project shares one store.
    for key in ("home", "signing_key", "signing-key"):
        value = table.get(key)
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            table = {**table, key: str(path.parent / value)}
    for key in ("tracking_uri", "tracking-uri"):
        value = table.get(key)
        if isinstance(value, str) and value:
            table = {**table, key: tracking_uri_from(value, base=path.parent)}
    return table


def _coerce(field: dataclasses.Field[Any], raw: object, origin: str) -> object:
    kind = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", "")
    try:
        if kind in ("Path", "Path | None"):
            return None if raw in (None, "") else Path(str(raw)).expanduser()
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(text)
        if kind == "int":
            return int(str(raw))
        if kind == "float":
            return float(str(raw))
        return None if raw in (None, "") else str(raw)
    except ValueError:
        raise InvalidInput(
            f"{origin} has invalid value {raw!r} for setting '{field.name}' (expected {kind})"
        ) from None


def load_settings(
    environ: Mapping[str, str] | None = None, cwd: str | os.PathLike[str] | None = None
) -> Settings:
    """Build settings from defaults, ``[tool.mloop]`` in the nearest pyproject.toml, then env vars.

    Args:
        environ: environment to read (default ``os.environ``).
        cwd: directory to start looking for pyproject.toml (default the working directory).

    Example:
        >>> load_settings(environ={"MLOOP_FLUSH_INTERVAL": "2"}, cwd="/").flush_interval
        2.0
    """
    env = os.environ if environ is None else environ
    start = Path(cwd) if cwd is not None else Path.cwd()
    table = _pyproject_table(start)
    values: dict[str, object] = {}
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    unknown = sorted(set(table) - {name.replace("_", "-") for name in fields} - set(fields))
    if unknown:
        raise InvalidInput(f"unknown setting(s) {unknown} in [tool.mloop]; known: {sorted(fields)}")
    for name, field in fields.items():
        if field.metadata.get("secret") and (name in table or name.replace("_", "-") in table):
            raise InvalidInput(
                f"[tool.mloop] sets {name}, a secret that would be committed with the project; "
                f"remove it and set {field.metadata['env']} in the environment instead"
            )
    for name, field in fields.items():
        for key in (name, name.replace("_", "-")):
            if key in table:
                values[name] = _coerce(field, table[key], "[tool.mloop]")
        # MLOOP_* wins over MLflow's twin, which wins over [tool.mloop].
        for env_name in (field.metadata.get("mlflow_env"), field.metadata["env"]):
            if env_name and env.get(env_name):
                values[name] = _coerce(field, env[env_name], env_name)
    return Settings(**values)  # type: ignore[arg-type]


ENVIRONMENT_VARIABLES = tuple(f.metadata["env"] for f in dataclasses.fields(Settings))
"""Every ``MLOOP_*`` variable mloop reads, one per :class:`Settings` field."""

MLFLOW_VARIABLES: dict[str, str] = {
    f.metadata["mlflow_env"]: f.metadata["env"]
    for f in dataclasses.fields(Settings)
    if "mlflow_env" in f.metadata
}
"""MLflow's variables that mloop understands, each mapped to its ``MLOOP_*`` twin (which wins).

Example:
    >>> MLFLOW_VARIABLES["MLFLOW_TRACKING_URI"]
    'MLOOP_TRACKING_URI'
    >>> load_settings(environ={"MLFLOW_EXPERIMENT_NAME": "a"}, cwd="/").experiment_name
    'a'
"""

_current: dict[tuple[str, tuple[object, ...]], Settings] = {}
# os.environ encodes every key it is asked for (~2 µs a lookup); the mapping it
# keeps underneath is looked up with keys encoded once. Same values, ~20x faster,
# which matters because the fluent API asks on every call.
_WATCHED = (*ENVIRONMENT_VARIABLES, *MLFLOW_VARIABLES)
_ENCODED = tuple(os.environ.encodekey(name) for name in _WATCHED)


def _environment_values() -> tuple[object, ...]:
    data = getattr(os.environ, "_data", None)
    if isinstance(data, dict):
        return tuple(map(data.get, _ENCODED))
    return tuple(os.environ.get(name) for name in _WATCHED)


def current_settings() -> Settings:
    """This process's settings, read once per working directory and ``MLOOP_*`` environment.

    The nearest pyproject.toml is parsed when a working directory (or a value
    of a variable in :data:`ENVIRONMENT_VARIABLES` or :data:`MLFLOW_VARIABLES`)
    is seen for the first time; afterwards the same :class:`Settings` object
    is returned at the cost of a few dictionary lookups. Call :func:`forget_settings` after editing
    ``[tool.mloop]`` in a running process.

    Example:
        >>> current_settings() is current_settings()
        True
    """
    key = (os.getcwd(), _environment_values())
    found = _current.get(key)
    if found is None:
        found = load_settings()
        if len(_current) > 16:  # a long-lived process moving between many folders
            _current.clear()
        _current[key] = found
    return found


def forget_settings() -> None:
    """Make the next :func:`current_settings` read pyproject.toml and the environment again."""
    _current.clear()


def referenced_variable(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The environment variable ``name`` that a stored spec refers to as ``${NAME}``, or None.

    A secret that a plugin needs (a Slack webhook's URL, an SMTP password) is
    no setting of mloop's: the spec that configures the plugin names the
    variable holding it, and the value is read here, when the plugin is
    built, so it is never stored. Empty counts as not set.

    Example:
        >>> referenced_variable("SLACK_WEBHOOK_URL", {"SLACK_WEBHOOK_URL": "https://h/x"})
        'https://h/x'
        >>> referenced_variable("SLACK_WEBHOOK_URL", {}) is None
        True
    """
    source = os.environ if environ is None else environ
    return source.get(name) or None


MLFLOW_SERVER_CREDENTIALS = (
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_TOKEN",
)
"""MLflow's login variables: read only to log in to an MLflow server an import reads from."""


def mlflow_server_credentials(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The MLflow login variables that are set, for requests to an MLflow server only.

    They are never settings: nothing stores, logs or prints them.

    Example:
        >>> mlflow_server_credentials({"MLFLOW_TRACKING_TOKEN": "t0k", "HOME": "/root"})
        {'MLFLOW_TRACKING_TOKEN': 't0k'}
    """
    source = os.environ if environ is None else environ
    return {name: source[name] for name in MLFLOW_SERVER_CREDENTIALS if name in source}
