"""``mloop serve``: models behind HTTP (MLflow's scoring protocol, Open Inference V2, /predict)."""

from __future__ import annotations

import signal
from typing import Any

import typer

from mloop.cli.context import creates_store, use_store
from mloop.cli.output import handle_errors, say
from mloop.errors import InvalidInput, MissingExtra

_LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def _split_name(given: str) -> tuple[str, str | None]:
    """``URI=NAME`` → (URI, NAME); a plain URI → (URI, None). ``=`` inside a URI is kept."""
    uri, sep, name = given.rpartition("=")
    if sep and name and "/" not in name and ":" not in name:
        return uri, name
    return given, None


def _check_free(host: str, port: int) -> None:
    """Refuse an address another process listens on, before any model is loaded.

    Raises:
        InvalidInput: the port is taken, or the host is not an address of this machine.
    """
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise InvalidInput(f"--host {host!r} is not an address here ({err.strerror})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as err:
            raise InvalidInput(
                f"cannot listen on {host}:{port} ({err.strerror}): choose another --port"
            ) from None


def _log_config(level: str) -> dict[str, Any]:
    """The server's logging: uvicorn's, and mloop's own lines (a switch, a canary judged).

    Both at ``level``, on stderr, in every worker.
    """
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["mloop"] = {
        "handlers": ["default"],
        "level": "DEBUG" if level == "trace" else level.upper(),
        "propagate": False,
    }
    return config


@creates_store  # the prediction log is written to the store's artifacts
@handle_errors
def serve_command(
    ctx: typer.Context,
    models: list[str] = typer.Argument(
        ...,
        help="Model URIs (models:/credit@champion, credit@champion, runs:/ID/model, a folder) "
        "or deployment names (credit-api: serves its canary, shadow and sticky routing, and "
        "follows its changes); URI=NAME serves one under another name.",
        show_default=False,
    ),
    name: str | None = typer.Option(
        None,
        "--name",
        help="The name to serve a single model under (default: its registered name).",
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind; 0.0.0.0 for every one."),
    port: int = typer.Option(8080, "--port", help="Port to listen on.", min=0, max=65535),
    workers: int = typer.Option(1, "--workers", help="Server processes.", min=1, max=64),
    executor: str = typer.Option(
        "local", "--executor", help="local (uvicorn here) or ray (Ray Serve replicas)."
    ),
    replicas: int = typer.Option(
        1, "--replicas", help="Ray Serve replicas (--executor ray).", min=1, max=1024
    ),
    ray_address: str | None = typer.Option(
        None,
        "--ray-address",
        help="A running Ray cluster (auto, ray://HOST:10001); default: start a local Ray.",
    ),
    max_batch_rows: int = typer.Option(
        64, "--max-batch-rows", help="Rows in one model call; 1 turns batching off.", min=1
    ),
    max_wait_ms: float = typer.Option(
        2.0,
        "--max-wait-ms",
        help="How long a batch under load may wait to grow (a request to an idle model never "
        "waits).",
        min=0.0,
        max=10_000.0,
    ),
    max_queue: int = typer.Option(
        1024, "--max-queue", help="Requests that may wait before new ones get 503.", min=1
    ),
    timeout: float = typer.Option(
        30.0, "--timeout", help="Seconds a request may take before it gets 504.", min=0.001
    ),
    max_body_mb: float = typer.Option(
        32.0, "--max-body-mb", help="Largest request body, in MiB (413 above).", min=0.001
    ),
    refresh: float = typer.Option(
        5.0,
        "--refresh",
        help="Seconds between looks at what can move (an alias, the latest version, a deployment).",
        min=0.1,
    ),
    prediction_log: bool = typer.Option(
        True,
        "--prediction-log/--no-prediction-log",
        help="Keep every request and answer as Parquet in the artifact store (for monitoring "
        "and POST /feedback).",
    ),
    pii: list[str] = typer.Option(
        [],
        "--pii",
        help="An input or output column to log as keyed hashes, never as values (repeatable).",
        show_default=False,
    ),
    log_flush: float = typer.Option(
        1.0,
        "--prediction-log-flush",
        help="Seconds between prediction log writes: a crash loses at most this much.",
        min=0.01,
    ),
    log_uri: str | None = typer.Option(
        None,
        "--prediction-log-uri",
        help="Where the prediction log goes (default: the artifact store).",
    ),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn's log level."),
    access_log: bool = typer.Option(
        False,
        "--access-log/--no-access-log",
        help="Log a line per request on stderr (costs throughput).",
    ),
) -> None:
    """Serve models over HTTP until Ctrl-C (or SIGTERM), which drains in-flight requests."""
    try:
        import uvicorn
    except ImportError:
        raise MissingExtra("uvicorn", extra="serve") from None
    from mloop.serving.batching import BatchSettings
    from mloop.serving.prediction_log import PredictionLogSettings
    from mloop.serving.server import MiB, ServerSettings

    if log_level.lower() not in _LOG_LEVELS:
        raise InvalidInput(
            f"--log-level must be one of {', '.join(_LOG_LEVELS)}, got {log_level!r}"
        )
    from mloop.serving.endpoints import default_name, summary, target_of

    pairs = [(target_of(uri), chosen) for uri, chosen in map(_split_name, models)]
    if name is not None:
        if len(pairs) != 1:
            raise InvalidInput("--name names a single model; for several, give URI=NAME each")
        pairs = [(pairs[0][0], name)]
    named = [(chosen or default_name(target), target) for target, chosen in pairs]
    settings = ServerSettings(
        batching=BatchSettings(max_batch_rows, max_wait_ms, max_queue),
        max_body_bytes=int(max_body_mb * MiB),
        timeout_seconds=timeout,
        refresh_seconds=refresh,
        prediction_log=PredictionLogSettings(
            enabled=prediction_log, flush_seconds=log_flush, pii=tuple(pii), uri=log_uri
        ),
    )
    if executor not in ("local", "ray"):
        raise InvalidInput(f"--executor must be local or ray, got {executor!r}")
    if executor == "local" and (replicas != 1 or ray_address is not None):
        raise InvalidInput("--replicas and --ray-address need --executor ray")
    if executor == "ray" and workers != 1:
        raise InvalidInput("--workers is for --executor local; with ray, use --replicas")
    use_store(ctx)
    if executor == "ray":
        from mloop.cli.serve_ray import serve_on_ray

        if ray_address is None:
            _check_free(host, port)
        serve_on_ray(named, settings, host=host, port=port, replicas=replicas, address=ray_address)
        return
    from mloop.serving.asgi import create_app
    from mloop.serving.server import ModelServer

    server = ModelServer(named, settings=settings)  # refuses a name used twice
    _check_free(host, port)
    # Loaded here, before the server starts: a wrong URI is a clear error, not a traceback.
    server.load()
    say(f"serving {summary(server.endpoints.values())} on http://{host}:{port}")
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level.lower(),
        "log_config": _log_config(log_level.lower()),
        "access_log": access_log,
        "timeout_graceful_shutdown": 30,
    }
    stopped_by: list[int] = []
    if workers == 1:
        # uvicorn drains, puts back the handlers it found (these) and raises the signal again.
        kept = {sig: signal.signal(sig, lambda n, _: stopped_by.append(n)) for sig in _STOPS}
        try:
            uvicorn.run(create_app(server), **common)
        finally:
            for sig, handler in kept.items():
                signal.signal(sig, handler)
    else:
        stopped_by.extend(_run_workers(uvicorn, named, settings, workers, common))
    if stopped_by:  # as a shell reports a process a signal ended: 130 for Ctrl-C, 143 for TERM
        raise typer.Exit(128 + stopped_by[0])


_STOPS = (signal.SIGINT, signal.SIGTERM)


def _run_workers(
    uvicorn: Any, named: list[tuple[str, str]], settings: Any, workers: int, common: Any
) -> list[int]:
    """Serve with ``workers`` processes until a signal stops them; the signals that did."""
    from uvicorn.supervisors import Multiprocess

    from mloop.serving.asgi import AppFactory

    # Each worker process builds its own app (and its own batchers and metrics).
    factory = AppFactory.here(dict(named), settings)
    config = uvicorn.Config(factory, factory=True, workers=workers, **common)
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    stopped_by: list[int] = []
    for method, sig in (("handle_int", signal.SIGINT), ("handle_term", signal.SIGTERM)):
        handle = getattr(supervisor, method)

        def noted(handle: Any = handle, sig: int = sig) -> None:
            stopped_by.append(sig)
            handle()

        setattr(supervisor, method, noted)
    supervisor.run()
    return stopped_by
