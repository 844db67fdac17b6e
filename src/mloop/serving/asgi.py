"""The HTTP face of a :class:`~mloop.serving.server.ModelServer`: one ASGI app, three protocols.

Each served name is a model or a deployment (whose canary, shadow and sticky
routing :mod:`mloop.serving.handling` applies per request).

- MLflow's scoring protocol: ``POST /invocations`` (and
  ``/models/{name}/invocations`` when several models are served),
  ``GET /ping``, ``/health``, ``/version``.
- The Open Inference Protocol V2 (KServe, Triton): ``/v2``,
  ``/v2/health/live|ready``, ``/v2/models/{name}[/versions/{v}]``,
  ``…/ready``, ``…/infer``.
- ``POST /predict`` and ``/models/{name}/predict``: records or columns.
- ``POST /feedback`` and ``/models/{name}/feedback``: labels for earlier
  requests, by request id, kept in the prediction log.
- ``GET /metrics`` (Prometheus) and the OpenAPI document at ``/openapi.json``
  (browsable at ``/docs``).

Every answer carries ``x-request-id`` (the client's, if it sent one) and
``x-model-version``. A request that does not fit the model's signature gets
400 with the reason; an unknown model 404; a body over the limit 413; a full
queue 503 with ``Retry-After``; a request that runs past its timeout 504.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.routing import Route

from mloop import __version__
from mloop.errors import Conflict, MloopError
from mloop.serving import scoring
from mloop.serving.endpoints import target_of
from mloop.serving.feedback import decode_feedback
from mloop.serving.handling import Codec, Handler, answer, request_id_of
from mloop.serving.http_body import read_body
from mloop.serving.log_records import Feedback
from mloop.serving.plain import decode_plain
from mloop.serving.server import ModelServer, ServerSettings
from mloop.serving.v2_routes import add_v2_routes

if TYPE_CHECKING:
    from mloop.config import Settings
    from mloop.context import Context

log = logging.getLogger("mloop.serving")

JSON = "application/json"
# MLflow's error codes for the statuses the server answers with (databricks_pb2's names).
_MLFLOW_ERROR_CODES = {
    404: "RESOURCE_DOES_NOT_EXIST",
    409: "INVALID_STATE",
    500: "INTERNAL_ERROR",
    503: "TEMPORARILY_UNAVAILABLE",
    504: "INTERNAL_ERROR",
}


def _scoring_decode(body: bytes, signature: Any, request: Request) -> tuple[Any, Mapping[str, Any]]:
    decoded = scoring.decode_invocation(body, request.headers.get("content-type"), signature)
    return decoded.data, {"params": decoded.params}


def _scoring_encode(
    values: Any, version: str, request_id: str, extra: Mapping[str, Any]
) -> tuple[bytes, Mapping[str, str]]:
    return scoring.encode_predictions(values), {}


def _scoring_error(message: str, status: int) -> bytes:
    return scoring.error_body(message, _MLFLOW_ERROR_CODES.get(status, "BAD_REQUEST"))


def _plain_decode(body: bytes, signature: Any, request: Request) -> tuple[Any, Mapping[str, Any]]:
    return decode_plain(body), {}


def _plain_error(message: str, status: int = 400) -> bytes:
    return json.dumps({"error": message}).encode()


MLFLOW = Codec("mlflow", _scoring_decode, _scoring_encode, _scoring_error)
PLAIN = Codec("plain", _plain_decode, _scoring_encode, _plain_error)


def create_app(server: ModelServer) -> FastAPI:
    """The ASGI app answering for ``server``; it loads the models when it starts.

    Example:
        >>> server = ModelServer.from_uris(["models:/credit@champion"])  # doctest: +SKIP
        >>> create_app(server)  # run with uvicorn  # doctest: +SKIP
    """

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await server.start()
        try:
            yield
        finally:
            await server.close()

    api = FastAPI(
        title="mloop model server",
        version=__version__,
        description=(
            "Models and deployments behind MLflow's scoring protocol, the Open Inference "
            "Protocol V2 and a plain JSON protocol."
        ),
        lifespan=lifespan,
    )
    handler = Handler(server)
    metrics = server.metrics
    prediction_log = server.prediction_log

    # -- MLflow's scoring protocol ----------------------------------------------------------------

    @api.post("/invocations", tags=["MLflow scoring"], summary="Predict (MLflow's protocol)")
    async def invocations(request: Request) -> Response:
        return await handler.run(request, None, MLFLOW)

    @api.post(
        "/models/{name}/invocations",
        tags=["MLflow scoring"],
        summary="Predict with one of several models (MLflow's protocol)",
    )
    async def model_invocations(name: str, request: Request) -> Response:
        return await handler.run(request, name, MLFLOW)

    @api.get("/ping", tags=["health"], summary="200 when every model is loaded")
    async def ping() -> Response:
        return Response(b"\n", 200 if server.ready else 503, media_type="text/plain")

    @api.get("/health", tags=["health"], summary="Readiness and each model's version")
    async def health() -> Response:
        body = json.dumps(server.health()).encode()
        return Response(body, 200 if server.ready else 503, media_type=JSON)

    @api.get("/version", tags=["health"], summary="The server's mloop version")
    async def version() -> Response:
        return Response(__version__.encode(), media_type="text/plain")

    # -- the plain protocol -----------------------------------------------------------------------

    @api.post("/predict", tags=["plain"], summary="Predict from records or columns")
    async def predict(request: Request) -> Response:
        return await handler.run(request, None, PLAIN)

    @api.post(
        "/models/{name}/predict", tags=["plain"], summary="Predict with one of several models"
    )
    async def model_predict(name: str, request: Request) -> Response:
        return await handler.run(request, name, PLAIN)

    # -- the Open Inference Protocol V2 -----------------------------------------------------------

    v2_fast_routes = add_v2_routes(api, handler)

    # -- feedback ---------------------------------------------------------------------------------

    async def feedback(request: Request, name: str | None) -> Response:
        request_id = request_id_of(request)
        try:
            endpoint = server.endpoint(name)
            if prediction_log is None:
                raise Conflict("this server keeps no prediction log (--no-prediction-log)")
            body = await read_body(request, server.settings.max_body_bytes)
            labels = decode_feedback(body)
            now, size = time.time(), len(body) // len(labels)
            recorded = sum(
                prediction_log.record(Feedback(rid, now, endpoint.log_name, label), size)
                for rid, label in labels
            )
            counts = {"recorded": recorded, "dropped": len(labels) - recorded}
            return answer(json.dumps(counts).encode(), 200, request_id)
        except MloopError as err:
            return answer(_plain_error(str(err)), err.http_status, request_id)

    @api.post("/feedback", tags=["feedback"], summary="Labels for earlier requests, by request id")
    async def post_feedback(request: Request) -> Response:
        return await feedback(request, None)

    @api.post(
        "/models/{name}/feedback", tags=["feedback"], summary="Labels for one of several models"
    )
    async def model_feedback(name: str, request: Request) -> Response:
        return await feedback(request, name)

    # -- the prediction routes, without FastAPI's request handling -------------------------------
    # The routes above document these paths in the OpenAPI schema; the same paths are also
    # routed first to plain Starlette endpoints, which skip FastAPI's per-request parameter
    # solving (about a tenth of a one-row request's time). Behaviour is the same.
    def fast_route(path: str, codec: Codec) -> Route:
        async def endpoint(request: Request) -> Response:
            name = request.path_params.get("name")
            return await handler.run(request, None if name is None else str(name), codec)

        return Route(path, endpoint, methods=["POST"], include_in_schema=False)

    api.router.routes[0:0] = [
        fast_route("/invocations", MLFLOW),
        fast_route("/models/{name}/invocations", MLFLOW),
        fast_route("/predict", PLAIN),
        fast_route("/models/{name}/predict", PLAIN),
        *v2_fast_routes,
    ]

    # -- metrics ----------------------------------------------------------------------------------

    @api.get("/metrics", tags=["health"], summary="Prometheus metrics")
    async def prometheus() -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    return api


def app(
    models: Sequence[str] | Mapping[str, str],
    *,
    settings: ServerSettings | None = None,
    context: Context | None = None,
) -> FastAPI:
    """An ASGI app serving ``models``: model URIs and deployment names (or a name→either map).

    Run it with any ASGI server (``uvicorn.run(app)``), or mount it in your own.

    Example:
        >>> import mloop.serving
        >>> api = mloop.serving.app(["models:/credit@champion"])  # doctest: +SKIP
        >>> api = mloop.serving.app(["credit-api"])  # a deployment  # doctest: +SKIP
        >>> import uvicorn; uvicorn.run(api, port=8080)  # doctest: +SKIP
    """
    if isinstance(models, Mapping):
        pairs = [(name, target_of(given)) for name, given in models.items()]
        server = ModelServer(pairs, settings=settings, context=context)
    else:
        server = ModelServer.from_uris(list(models), settings=settings, context=context)
    return create_app(server)


@dataclasses.dataclass(frozen=True)
class AppFactory:
    """Builds the app in another process (``mloop serve --workers N``, a Ray Serve replica).

    Picklable: the served names and targets, the server's settings and the
    store's settings; each process opens the store itself and its app's
    lifespan loads and verifies the models there.

    Example:
        >>> factory = AppFactory((("credit", "models:/credit@champion"),), ServerSettings())
        >>> factory.models[0][0]
        'credit'
    """

    models: tuple[tuple[str, str], ...]
    settings: ServerSettings
    store: Settings | None = None

    def __call__(self) -> FastAPI:
        """The app of one process, on the store the command was pointed at."""
        if self.store is not None:
            from mloop.pipelines.tasks import worker_client

            worker_client(self.store)
        return create_app(ModelServer(list(self.models), settings=self.settings))

    @classmethod
    def here(cls, models: Mapping[str, str], settings: ServerSettings) -> AppFactory:
        """The factory of ``models`` (served name to target) on the store this process uses."""
        from mloop.pipelines.tasks import worker_settings
        from mloop.tracking import fluent

        return cls(tuple(models.items()), settings, worker_settings(fluent.current_client()))
