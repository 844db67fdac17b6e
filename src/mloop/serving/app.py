"""The HTTP face of a :class:`~mloop.serving.server.ModelServer`: one ASGI app, three protocols.

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
import uuid
import zlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.routing import Route

from mloop import __version__
from mloop.errors import Conflict, InvalidInput, MloopError, NotFound, UnsupportedMediaType
from mloop.serving import open_inference, scoring
from mloop.serving.feedback import decode_feedback
from mloop.serving.inputs import rows_of
from mloop.serving.log_records import Feedback, Prediction
from mloop.serving.plain import decode_plain
from mloop.serving.server import ModelServer, NotReady, ServerSettings

if TYPE_CHECKING:
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
_V2_READY_BODY = b'{"ready": true}'


class BodyTooLarge(MloopError):
    """A request body over the server's limit (413)."""

    http_status = 413


def _status_of(err: BaseException) -> int:
    if isinstance(err, MloopError):
        return err.http_status
    if isinstance(err, TimeoutError):
        return 504
    return 500


def _message(err: BaseException) -> str:
    if isinstance(err, TimeoutError):
        return "no answer within the server's timeout"
    if isinstance(err, MloopError):
        return str(err)
    return f"the model failed: {type(err).__name__}: {err}"


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused before it is read past ``limit`` bytes.

    A body sent with ``Content-Encoding: gzip`` or ``deflate`` (as ``tritonclient``
    sends with ``request_compression_algorithm=``) is decompressed; the limit holds
    for the decompressed bytes too.

    Raises:
        BodyTooLarge: the declared, read or decompressed length is over the limit.
        UnsupportedMediaType: another content encoding.
        InvalidInput: the body does not decompress.
    """
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
        raise UnsupportedMediaType(
            f"content encoding {encoding!r} is not supported; send gzip, deflate or identity"
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"the body is {int(declared):,} bytes; the limit is {limit:,}")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"the body is over the limit of {limit:,} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    if encoding in ("identity", ""):
        return body
    return _decompress(body, encoding, limit)


def _decompress(body: bytes, encoding: str, limit: int) -> bytes:
    """``body`` inflated, at most ``limit`` bytes (zlib or gzip framing, or raw deflate)."""
    # 47: a zlib or gzip header, detected; -15: raw deflate, which some clients send.
    for wbits in (47, -15) if encoding == "deflate" else (47,):
        inflater = zlib.decompressobj(wbits)
        try:
            data = inflater.decompress(body, limit + 1)
        except zlib.error:
            continue
        if len(data) > limit or inflater.unconsumed_tail:
            raise BodyTooLarge(f"the decompressed body is over the limit of {limit:,} bytes")
        if not inflater.eof:
            raise InvalidInput(f"the {encoding} body is truncated")
        return data
    raise InvalidInput(f"the body is not valid {encoding} data")


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
            "Models behind MLflow's scoring protocol, the Open Inference Protocol V2 "
            "and a plain JSON protocol."
        ),
        lifespan=lifespan,
    )
    limit = server.settings.max_body_bytes
    metrics = server.metrics
    prediction_log = server.prediction_log

    def answer(
        body: bytes,
        status: int,
        request_id: str,
        *,
        version: str | None = None,
        headers: Mapping[str, str] | None = None,
        media_type: str = JSON,
    ) -> Response:
        extra = {"x-request-id": request_id, **(headers or {})}
        if version is not None:
            extra["x-model-version"] = version
        if status == 503:
            extra["retry-after"] = "1"
        return Response(body, status, headers=extra, media_type=media_type)

    def request_id_of(request: Request) -> str:
        given = request.headers.get("x-request-id")
        return given if given and len(given) <= 128 else uuid.uuid4().hex

    async def run(
        request: Request,
        name: str | None,
        protocol: str,
        decode: Callable[[bytes, Any, Request], tuple[Any, Any]],
        encode: Callable[[Any, str, str, Any], tuple[bytes, Mapping[str, str]]],
        error: Callable[[str, int], bytes],
    ) -> Response:
        """One prediction request, from body to answer, with its metrics."""
        started = time.perf_counter()
        request_id = request_id_of(request)
        model_name = name or "-"
        version = "-"
        try:
            served = server.model(name) if name is not None else server.only_model()
            model_name = served.name
            body = await read_body(request, limit)
            current = served.current
            if current is None:
                raise NotReady(f"model {served.name!r} is not loaded yet")
            version = current.label
            data, extra = decode(body, current.model.signature, request)
            if rows_of(data) == 0:
                raise InvalidInput("the request holds no rows to predict")
            checked = (current, current.model.check_input(data))
            result = await server.predict(served.name, data, extra.get("params"), checked=checked)
            payload, headers = encode(result.values, result.version, request_id, extra)
            status = 200
            if prediction_log is not None:  # appends to a buffer: no I/O here
                logged = Prediction(
                    request_id,
                    time.time(),
                    served.name,
                    served.name,
                    result.version,
                    protocol,
                    data,
                    result.values,
                    time.perf_counter() - started,
                )
                prediction_log.record(logged, len(body) + len(payload))
            response = answer(
                payload,
                200,
                request_id,
                version=version,
                headers=headers,
                media_type=extra.get("media_type", JSON),
            )
        except Exception as err:
            status = _status_of(err)
            if status == 500:
                log.exception("%s: request %s failed", model_name, request_id)
            response = answer(error(_message(err), status), status, request_id, version=None)
        metrics.request(model_name, version, protocol, status, time.perf_counter() - started)
        return response

    # -- MLflow's scoring protocol ----------------------------------------------------------------

    def scoring_decode(body: bytes, signature: Any, request: Request) -> tuple[Any, Any]:
        decoded = scoring.decode_invocation(body, request.headers.get("content-type"), signature)
        return decoded.data, {"params": decoded.params}

    def scoring_encode(
        values: Any, version: str, request_id: str, extra: Any
    ) -> tuple[bytes, Mapping[str, str]]:
        return scoring.encode_predictions(values), {}

    def scoring_error(message: str, status: int) -> bytes:
        return scoring.error_body(message, _MLFLOW_ERROR_CODES.get(status, "BAD_REQUEST"))

    @api.post("/invocations", tags=["MLflow scoring"], summary="Predict (MLflow's protocol)")
    async def invocations(request: Request) -> Response:
        return await run(request, None, "mlflow", scoring_decode, scoring_encode, scoring_error)

    @api.post(
        "/models/{name}/invocations",
        tags=["MLflow scoring"],
        summary="Predict with one of several models (MLflow's protocol)",
    )
    async def model_invocations(name: str, request: Request) -> Response:
        return await run(request, name, "mlflow", scoring_decode, scoring_encode, scoring_error)

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

    def plain_decode(body: bytes, signature: Any, request: Request) -> tuple[Any, Any]:
        return decode_plain(body), {}

    def plain_error(message: str, status: int = 400) -> bytes:
        return json.dumps({"error": message}).encode()

    @api.post("/predict", tags=["plain"], summary="Predict from records or columns")
    async def predict(request: Request) -> Response:
        return await run(request, None, "plain", plain_decode, scoring_encode, plain_error)

    @api.post(
        "/models/{name}/predict", tags=["plain"], summary="Predict with one of several models"
    )
    async def model_predict(name: str, request: Request) -> Response:
        return await run(request, name, "plain", plain_decode, scoring_encode, plain_error)

    # -- the Open Inference Protocol V2 -----------------------------------------------------------

    def v2_decode(body: bytes, signature: Any, request: Request) -> tuple[Any, Any]:
        length = request.headers.get("inference-header-content-length")
        header_length = int(length) if length and length.isdigit() else None
        decoded = open_inference.decode_infer(body, signature, header_length=header_length)
        extra = {
            "params": decoded.parameters or None,
            "v2": decoded,
            "signature": signature,
            "media_type": "application/octet-stream" if decoded.binary_outputs else JSON,
        }
        return decoded.data, extra

    def v2_encoder(name: str) -> Callable[[Any, str, str, Any], tuple[bytes, Mapping[str, str]]]:
        def encode(
            values: Any, version: str, request_id: str, extra: Any
        ) -> tuple[bytes, Mapping[str, str]]:
            decoded = extra["v2"]
            return open_inference.encode_infer(
                name,
                version,
                decoded.id,
                values,
                extra["signature"],
                binary=decoded.binary_outputs,
                outputs=decoded.outputs,
            )

        return encode

    def v2_error(message: str, status: int = 400) -> bytes:
        return open_inference.error_body(message)

    def v2_model(name: str, version: str | None) -> Any:
        served = server.model(name)
        current = served.current
        if current is None:
            raise NotReady(f"model {name!r} is not loaded yet")
        if version is not None and version not in (current.label, current.version):
            raise NotFound(f"model {name!r} serves version {current.label}, not {version!r}")
        return served, current

    def v2_failure(err: MloopError) -> Response:
        return Response(v2_error(str(err)), _status_of(err), media_type=JSON)

    @api.get("/v2", tags=["Open Inference V2"], summary="Server metadata")
    async def v2_server() -> Response:
        body = {
            "name": "mloop",
            "version": __version__,
            "extensions": ["binary_tensor_data"],
        }
        return Response(json.dumps(body).encode(), media_type=JSON)

    @api.get("/v2/health/live", tags=["Open Inference V2"], summary="Liveness")
    async def v2_live() -> Response:
        return Response(b'{"live": true}', media_type=JSON)

    @api.get("/v2/health/ready", tags=["Open Inference V2"], summary="Readiness of every model")
    async def v2_ready() -> Response:
        ready = server.ready
        return Response(
            json.dumps({"ready": ready}).encode(), 200 if ready else 503, media_type=JSON
        )

    async def metadata(name: str, version: str | None) -> Response:
        try:
            served, current = v2_model(name, version)
        except MloopError as err:
            return v2_failure(err)
        body = open_inference.model_metadata(
            served.name, [current.label], current.model.signature, current.model.flavor
        )
        return Response(json.dumps(body).encode(), media_type=JSON)

    async def model_ready(name: str, version: str | None) -> Response:
        try:
            v2_model(name, version)
        except NotReady:
            return Response(b'{"ready": false}', 503, media_type=JSON)
        except MloopError as err:
            return v2_failure(err)
        return Response(_V2_READY_BODY, media_type=JSON)

    async def infer(name: str, version: str | None, request: Request) -> Response:
        try:
            v2_model(name, version)
        except MloopError as err:
            return v2_failure(err)
        return await run(request, name, "v2", v2_decode, v2_encoder(name), v2_error)

    v2: list[str | Enum] = ["Open Inference V2"]

    @api.get("/v2/models/{name}", tags=v2, summary="Model metadata: its inputs and outputs")
    async def v2_metadata(name: str) -> Response:
        return await metadata(name, None)

    @api.get(
        "/v2/models/{name}/versions/{version}", tags=v2, summary="Model metadata of one version"
    )
    async def v2_version_metadata(name: str, version: str) -> Response:
        return await metadata(name, version)

    @api.get("/v2/models/{name}/ready", tags=v2, summary="Model readiness")
    async def v2_model_ready(name: str) -> Response:
        return await model_ready(name, None)

    @api.get(
        "/v2/models/{name}/versions/{version}/ready", tags=v2, summary="Readiness of one version"
    )
    async def v2_version_ready(name: str, version: str) -> Response:
        return await model_ready(name, version)

    @api.post("/v2/models/{name}/infer", tags=v2, summary="Inference")
    async def v2_infer(name: str, request: Request) -> Response:
        return await infer(name, None, request)

    @api.post(
        "/v2/models/{name}/versions/{version}/infer", tags=v2, summary="Inference by one version"
    )
    async def v2_version_infer(name: str, version: str, request: Request) -> Response:
        return await infer(name, version, request)

    # -- feedback ---------------------------------------------------------------------------------

    async def feedback(request: Request, name: str | None) -> Response:
        request_id = request_id_of(request)
        try:
            served = server.model(name) if name is not None else server.only_model()
            if prediction_log is None:
                raise Conflict("this server keeps no prediction log (--no-prediction-log)")
            body = await read_body(request, limit)
            labels = decode_feedback(body)
            now, size = time.time(), len(body) // len(labels)
            recorded = sum(
                prediction_log.record(Feedback(rid, now, served.name, label), size)
                for rid, label in labels
            )
            counts = {"recorded": recorded, "dropped": len(labels) - recorded}
            return answer(json.dumps(counts).encode(), 200, request_id)
        except MloopError as err:
            return answer(plain_error(str(err)), err.http_status, request_id)

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
    def fast_route(path: str, handle: Callable[[Request], Any]) -> Route:
        async def endpoint(request: Request) -> Response:
            response: Response = await handle(request)
            return response

        return Route(path, endpoint, methods=["POST"], include_in_schema=False)

    def path_name(request: Request) -> str:
        return str(request.path_params["name"])

    fast_routes = [
        fast_route(
            "/invocations",
            lambda r: run(r, None, "mlflow", scoring_decode, scoring_encode, scoring_error),
        ),
        fast_route(
            "/models/{name}/invocations",
            lambda r: run(r, path_name(r), "mlflow", scoring_decode, scoring_encode, scoring_error),
        ),
        fast_route(
            "/predict", lambda r: run(r, None, "plain", plain_decode, scoring_encode, plain_error)
        ),
        fast_route(
            "/models/{name}/predict",
            lambda r: run(r, path_name(r), "plain", plain_decode, scoring_encode, plain_error),
        ),
        fast_route("/v2/models/{name}/infer", lambda r: infer(path_name(r), None, r)),
        fast_route(
            "/v2/models/{name}/versions/{version}/infer",
            lambda r: infer(path_name(r), str(r.path_params["version"]), r),
        ),
    ]
    api.router.routes[0:0] = fast_routes

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
    """An ASGI app serving ``models``: URIs, or a mapping of served name to URI.

    Run it with any ASGI server (``uvicorn.run(app)``), or mount it in your own.

    Example:
        >>> import mloop.serving
        >>> api = mloop.serving.app(["models:/credit@champion"])  # doctest: +SKIP
        >>> import uvicorn; uvicorn.run(api, port=8080)  # doctest: +SKIP
    """
    if isinstance(models, Mapping):
        server = ModelServer(list(models.items()), settings=settings, context=context)
    else:
        server = ModelServer.from_uris(list(models), settings=settings, context=context)
    return create_app(server)


@dataclasses.dataclass(frozen=True)
class AppFactory:
    """Builds the app in each worker process of ``mloop serve --workers N`` (picklable).

    Example:
        >>> factory = AppFactory((("credit", "models:/credit@champion"),), ServerSettings())
        >>> factory.models[0][0]
        'credit'
    """

    models: tuple[tuple[str, str], ...]
    settings: ServerSettings
    tracking_uri: str | None = None
    artifacts_uri: str | None = None

    def __call__(self) -> FastAPI:
        """The app of one worker, on the store the command was pointed at."""
        if self.tracking_uri or self.artifacts_uri:
            from mloop.tracking import fluent

            fluent.set_tracking_uri(self.tracking_uri or "", artifacts_uri=self.artifacts_uri)
        return create_app(ModelServer(list(self.models), settings=self.settings))
