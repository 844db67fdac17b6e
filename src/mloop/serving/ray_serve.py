"""Serving on Ray Serve: the same app as ``mloop serve``, as a deployment of N replicas.

Each replica builds the app itself from a :class:`AppFactory` (picklable: the
model URIs, the server's settings and the store's settings), so each one
finds, verifies and loads the models from the store as a one-process server
does, and runs the app's lifespan: the models load before the replica says
it is healthy, and the prediction log is flushed when the replica stops.
Serve's own health check asks each replica's app for ``/v2/health/ready``
in-process, so a replica counts as running only once it answers.

Ray Serve's HTTP proxy answers on the host and port given; a request is
routed to one replica, which batches it with the others it holds. Ray is
started here (node address 127.0.0.1) when no address is given, or joined at
``address`` (``auto``, ``ray://head:10001``...). On a cluster of several
machines the store must be one each node reaches (PostgreSQL, S3, a team
server), and mloop must be installed on every node.

Example:
    >>> options = RayServeOptions(replicas=2, port=8000)
    >>> options.check()
    >>> RayServeOptions(replicas=0).check()
    Traceback (most recent call last):
    ...
    mloop.errors.InvalidInput: --replicas must be at least 1, got 0
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import urllib.request
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from mloop.errors import InvalidInput, MissingExtra, MloopError
from mloop.serving.asgi import AppFactory
from mloop.serving.server import ServerSettings

if TYPE_CHECKING:
    pass

log = logging.getLogger("mloop.serving")

APP_NAME: Final = "mloop"
DEPLOYMENT: Final = "mloop-model-server"
_READY_PATH: Final = "/v2/health/ready"
# Seconds Serve gives a stopping replica to answer what it holds and flush its log.
_GRACE_SECONDS: Final = 30.0


class NotStarted(MloopError):
    """The deployment did not come up: a replica failed, or not all answered in time (503)."""

    http_status = 503


def import_serve() -> Any:
    """Ray Serve's module, or :class:`~mloop.errors.MissingExtra` naming the extra."""
    try:
        from ray import serve
    except ImportError:
        raise MissingExtra("Ray Serve", extra="ray-serve") from None
    return serve


def _ray() -> Any:
    """Ray's module (untyped: it is used as ``Any``)."""
    import ray

    return ray


@dataclasses.dataclass(frozen=True)
class RayServeOptions:
    """Where and how wide the deployment runs.

    ``address`` is a running cluster's (``auto``, ``ray://head:10001``); without
    it a local Ray is started with 127.0.0.1 as its node address. ``replica_cpus`` is what Ray
    reserves for each replica. ``ready_timeout`` bounds the wait for every
    replica to load its models and answer.
    """

    replicas: int = 1
    address: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    app_name: str = APP_NAME
    replica_cpus: float = 1.0
    ready_timeout: float = 300.0

    def check(self) -> None:
        """Refuse bad values before Ray is started.

        Raises:
            InvalidInput: naming the option and the value.
        """
        if isinstance(self.replicas, bool) or self.replicas < 1:
            raise InvalidInput(f"--replicas must be at least 1, got {self.replicas}")
        if not 0 <= self.port <= 65535:
            raise InvalidInput(f"--port must be 0..65535, got {self.port}")
        if self.replica_cpus < 0:
            raise InvalidInput(f"CPUs per replica must be >= 0, got {self.replica_cpus}")
        if self.ready_timeout <= 0:
            raise InvalidInput(f"the ready timeout must be > 0 seconds, got {self.ready_timeout}")
        if self.address is not None and not self.address.strip():
            raise InvalidInput("--ray-address is empty; omit it to start a local Ray")
        if not self.app_name or "/" in self.app_name:
            raise InvalidInput(f"{self.app_name!r} is not a Serve application name")


async def _asgi_status(app: Any, path: str) -> int:
    """The status ``app`` answers a GET of ``path`` with, asked in-process."""
    status = 0
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:  # only after the answer: the app waits for a disconnect that never comes
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Mapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [], "client": ("127.0.0.1", 0), "server": ("127.0.0.1", 0),
    }  # fmt: skip
    await app(scope, receive, send)
    return status


class _Replica:
    """What Serve wraps around each replica's app: its health is the app's readiness."""

    app: Any  # set by Serve's ingress wrapper

    async def check_health(self) -> None:
        """Raise unless every model of this replica's app is loaded (Serve restarts it then)."""
        status = await _asgi_status(self.app, _READY_PATH)
        if status != 200:
            raise RuntimeError(f"the model server answers {_READY_PATH} with {status}")


def application(
    factory: AppFactory, replicas: int | None = None, replica_cpus: float | None = None
) -> Any:
    """The Serve application: ``factory``'s app behind ``replicas`` replicas.

    Returns a bound application (``serve.run`` takes it; so does a config's
    ``import_path``, whose ``deployments`` then set what is left as ``None`` here).

    Example:
        >>> factory = AppFactory((("credit", "models:/credit@champion"),), ServerSettings())
        >>> application(factory, replicas=2)  # with mloop[ray-serve] installed  # doctest: +SKIP

    Raises:
        MissingExtra: Ray Serve is not installed.
    """
    serve = import_serve()

    def build() -> Any:  # run on each replica as it starts
        return factory()

    chosen: dict[str, Any] = {}
    if replicas is not None:
        chosen["num_replicas"] = replicas
    if replica_cpus is not None:
        chosen["ray_actor_options"] = {"num_cpus": replica_cpus}
    deployment = serve.deployment(
        serve.ingress(build)(_Replica),
        name=DEPLOYMENT,
        # The server queues and batches requests itself, and answers 503 past its own queue.
        max_ongoing_requests=factory.settings.batching.max_queue,
        graceful_shutdown_timeout_s=_GRACE_SECONDS,
        max_constructor_retry_count=3,
        **chosen,
    )
    return deployment.bind()


def _probe_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host


class RayServing:
    """Starts the deployment, waits until every replica answers, and stops it.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.

    Example:
        >>> factory = AppFactory.here({"credit": "models:/credit@champion"}, ServerSettings())
        >>> with RayServing(factory, RayServeOptions(replicas=2)) as url:  # doctest: +SKIP
        ...     print(url)
        http://127.0.0.1:8000
    """

    def __init__(self, factory: AppFactory, options: RayServeOptions) -> None:
        options.check()
        self.factory = factory
        self.options = options
        self._started_ray = False
        self._running = False

    @property
    def url(self) -> str:
        """The proxy's base URL (where it listens: see :meth:`proxy_address`)."""
        host, port = self.proxy_address()
        return f"http://{_probe_host(host)}:{port}"

    def proxy_address(self) -> tuple[str, int]:
        """The host and port Serve's proxies listen on.

        Those asked for, unless Serve was already running on the cluster: its proxies
        keep the address they were started with.
        """
        if self._running:
            try:  # Serve answers it only through its client (no public getter)
                from ray.serve.context import _get_global_client

                client: Any = _get_global_client()
                config = client.http_config
                return str(config.host), int(config.port)
            except (ImportError, AttributeError):
                pass
        return self.options.host, self.options.port

    def connect(self) -> None:
        """Start Ray (unless this process is already connected) and Serve with its HTTP proxy.

        Ray sets its own SIGTERM handler here: a caller with handlers of its own sets
        them after this call.

        Raises:
            MissingExtra: Ray Serve is not installed.
        """
        if self._running:
            return
        serve = import_serve()
        ray = _ray()
        if not ray.is_initialized():
            if self.options.address is None:
                ray.init(_node_ip_address="127.0.0.1", include_dashboard=False)
            else:
                ray.init(address=self.options.address)
            self._started_ray = True
        self._running = True
        serve.start(http_options={"host": self.options.host, "port": self.options.port})
        if self.proxy_address() != (self.options.host, self.options.port):
            host, port = self.proxy_address()
            log.warning(
                "Ray Serve was already running here: its proxies listen on %s:%s, not on the "
                "%s:%s asked for",
                host, port, self.options.host, self.options.port,
            )  # fmt: skip

    def start(self) -> str:
        """Connect, deploy, and wait until every replica answers; returns the proxy's URL.

        Interrupted (Ctrl-C) or failed, it stops what it started before raising.

        Raises:
            MissingExtra: Ray Serve is not installed.
            NotStarted: a replica failed to start, or they did not all answer in time.
        """
        serve = import_serve()
        try:
            self.connect()
            app = application(self.factory, self.options.replicas, self.options.replica_cpus)
            # Not serve.run: it waits without a bound (forever, when the replicas' CPUs
            # are not there); the wait below is bounded and says what is missing.
            serve._run(app, _blocking=False, name=self.options.app_name, route_prefix="/")
            self._wait_ready(serve)
        except BaseException:
            self.stop()
            raise
        return self.url

    def _wait_ready(self, serve: Any) -> None:
        """Wait until every replica runs (each answered its health check) and the proxy routes."""
        deadline = time.monotonic() + self.options.ready_timeout
        replicas = self.options.replicas
        running = 0
        while running < replicas:
            app = serve.status().applications.get(self.options.app_name)
            if app is not None and app.status == "DEPLOY_FAILED":
                raise NotStarted(f"the Ray Serve deployment did not start: {app.message}")
            if app is not None and app.deployments.get(DEPLOYMENT) is not None:
                running = app.deployments[DEPLOYMENT].replica_states.get("RUNNING", 0)
            if running >= replicas:
                break
            if time.monotonic() > deadline:
                cpus = _ray().cluster_resources().get("CPU", 0)
                raise NotStarted(
                    f"{running} of {replicas} replicas answered within "
                    f"{self.options.ready_timeout:g} s (each reserves "
                    f"{self.options.replica_cpus:g} CPU; the cluster has {cpus:g})"
                )
            time.sleep(0.2)
        if self.options.address is not None and not self._local_proxy():
            return  # the proxies are on the cluster's nodes, not necessarily reachable here
        while not self._proxy_ready():
            if time.monotonic() > deadline:
                raise NotStarted(f"Serve's proxy at {self.url} did not route to the model server")
            time.sleep(0.2)

    def _local_proxy(self) -> bool:
        return _probe_host(self.proxy_address()[0]) in ("127.0.0.1", "localhost")

    def _proxy_ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + _READY_PATH, timeout=5) as answer:
                return bool(json.loads(answer.read()).get("ready"))
        except (OSError, ValueError):  # refused, 404 or 503 (HTTPError), not JSON yet
            return False

    def stop(self) -> None:
        """Delete the application (its replicas flush their logs), and stop what was started.

        On a cluster joined at an address, only this application is deleted; Serve and Ray
        go on serving the others.
        """
        if not self._running:
            return
        self._running = False
        serve = import_serve()
        ray = _ray()
        try:
            serve.delete(self.options.app_name)
        finally:
            if self._started_ray:
                if self.options.address is None:
                    serve.shutdown()
                ray.shutdown()
                self._started_ray = False

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def build_app(args: Mapping[str, Any]) -> Any:
    """The application a Serve config's ``import_path`` names, from the config's ``args``.

    ``args`` holds ``models``: ``{name: uri}``, a list of URIs or one URI. The
    config's ``deployments`` set the replicas and their resources; the store is
    the one the replicas' ``MLOOP_*`` environment variables name
    (``runtime_env.env_vars``). ``serve deploy`` and ``serve run`` call it
    through ``import_path: mloop.serving.ray_serve:build_app``.

    Example:
        >>> build_app({"models": {"credit": "/model"}})  # doctest: +SKIP

    Raises:
        InvalidInput: ``args`` names no model.
    """
    from mloop.serving.served import served_name

    given = args.get("models")
    if isinstance(given, str):
        given = [given]
    if not given:
        raise InvalidInput("the Serve config's args name no models (args: {models: {NAME: URI}})")
    pairs = dict(given) if isinstance(given, Mapping) else {served_name(u): u for u in given}
    factory = AppFactory(tuple((str(n), str(u)) for n, u in pairs.items()), ServerSettings())
    return application(factory)
