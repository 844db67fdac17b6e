"""``mloop serve --executor ray``: the models on Ray Serve's replicas until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import time
from collections.abc import Sequence
from types import FrameType

from mloop.cli.output import say
from mloop.serving.asgi import AppFactory
from mloop.serving.endpoints import summary
from mloop.serving.ray_serve import RayServeOptions, RayServing, import_serve
from mloop.serving.server import ModelServer, ServerSettings


def _versions(named: Sequence[tuple[str, str]], settings: ServerSettings) -> str:
    """Load every model here once: a wrong URI or a damaged package is a clear error now."""
    server = ModelServer(list(named), settings=settings)  # refuses a name used twice
    server.load()
    return summary(server.endpoints.values())


def serve_on_ray(
    named: Sequence[tuple[str, str]],
    settings: ServerSettings,
    *,
    host: str,
    port: int,
    replicas: int,
    address: str | None,
) -> None:
    """Serve ``named`` (``(name, uri)`` pairs) on Ray Serve until Ctrl-C or SIGTERM.

    The models are loaded here first (every package verified), then each
    replica loads them again from the store; the command says it is serving
    only once every replica answers. Ctrl-C or SIGTERM deletes the
    application (each replica answers what it holds and flushes its prediction
    log) and stops the Ray it started.

    Example:
        >>> serve_on_ray([("credit", "models:/credit@champion")], ServerSettings(),
        ...              host="127.0.0.1", port=8080, replicas=2, address=None)  # doctest: +SKIP
        serving credit (v3) on http://127.0.0.1:8080 with 2 replicas on a local Ray

    Raises:
        InvalidInput: a bad option (replicas, port, address).
        MissingExtra: Ray Serve is not installed.
        NotFound: a model URI that names nothing.
        NotStarted: the replicas did not all start and answer.
    """
    options = RayServeOptions(replicas=replicas, address=address, host=host, port=port)
    options.check()
    import_serve()  # before loading anything: a missing extra is the first thing said
    versions = _versions(named, settings)
    factory = AppFactory.here(dict(named), settings)

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt  # SIGTERM stops the server as Ctrl-C does

    serving = RayServing(factory, options)
    signals = (signal.SIGINT, signal.SIGTERM)
    original = {sig: signal.getsignal(sig) for sig in signals}
    try:
        serving.connect()  # Ray sets its own SIGTERM handler here; ours is set after it
        for sig in signals:
            signal.signal(sig, interrupt)
        url = serving.start()  # stops what it started if interrupted
        noun = "replica" if replicas == 1 else "replicas"
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        say(f"serving {versions} on {url} with {replicas} {noun} on {where}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            for sig in signals:  # a second signal does not cut the shutdown short
                signal.signal(sig, signal.SIG_IGN)
            say("stopping: the replicas finish what they hold and flush their logs")
    finally:
        serving.stop()
        for sig, handler in original.items():
            signal.signal(sig, handler)
