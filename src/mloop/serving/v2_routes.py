"""The Open Inference Protocol V2 (KServe, Triton) on a FastAPI app.

``/v2``, ``/v2/health/live|ready``, ``/v2/models/{name}[/versions/{v}]``
(metadata from the signature), ``…/ready`` and ``…/infer``. A deployment's
metadata is its primary's, listing every version it serves; ``/versions/{v}``
reaches one version of a deployment directly (a blue-green twin before the
switch, say).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import Enum
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.routing import Route

from mloop import __version__
from mloop.errors import MloopError
from mloop.serving import open_inference
from mloop.serving.endpoints import NotReady, current_of
from mloop.serving.handling import JSON, Codec, Handler, status_of
from mloop.serving.served import ServedModel

_READY = b'{"ready": true}'


def _decode(body: bytes, signature: Any, request: Request) -> tuple[Any, Mapping[str, Any]]:
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


def _error(message: str, status: int = 400) -> bytes:
    return open_inference.error_body(message)


def _codec(name: str) -> Codec:
    def encode(
        values: Any, version: str, request_id: str, extra: Mapping[str, Any]
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

    return Codec("v2", _decode, encode, _error)


def _failure(err: MloopError) -> Response:
    return Response(_error(str(err)), status_of(err), media_type=JSON)


def add_v2_routes(api: FastAPI, handler: Handler) -> list[Route]:
    """Add the V2 routes to ``api``; the fast routes of its inference paths (added first later)."""
    server = handler.server

    def member(name: str, version: str | None) -> ServedModel:
        endpoint = server.endpoint(name)
        if version is None:
            return endpoint.members()[0][1] if endpoint.members() else endpoint.pick()[1]
        return endpoint.pick(None, version)[1]

    @api.get("/v2", tags=["Open Inference V2"], summary="Server metadata")
    async def v2_server() -> Response:
        body = {"name": "mloop", "version": __version__, "extensions": ["binary_tensor_data"]}
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
            served = member(name, version)
            current = current_of(served)
            endpoint = server.endpoint(name)
        except MloopError as err:
            return _failure(err)
        labels = [current.label] + [
            m.current.label
            for _, m in endpoint.members()
            if m.current is not None and m.current.label != current.label
        ]
        body = open_inference.model_metadata(
            endpoint.name, labels, current.model.signature, current.model.flavor
        )
        return Response(json.dumps(body).encode(), media_type=JSON)

    async def model_ready(name: str, version: str | None) -> Response:
        try:
            endpoint = server.endpoint(name)
            if version is None and not endpoint.ready:
                raise NotReady(f"model {name!r} is not loaded yet")
            current_of(member(name, version))
        except NotReady:
            return Response(b'{"ready": false}', 503, media_type=JSON)
        except MloopError as err:
            return _failure(err)
        return Response(_READY, media_type=JSON)

    async def infer(name: str, version: str | None, request: Request) -> Response:
        try:
            endpoint = server.endpoint(name)
        except MloopError as err:
            return _failure(err)
        return await handler.run(request, endpoint.name, _codec(endpoint.name), version)

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

    async def fast_infer(request: Request) -> Response:
        return await infer(str(request.path_params["name"]), None, request)

    async def fast_version_infer(request: Request) -> Response:
        params = request.path_params
        return await infer(str(params["name"]), str(params["version"]), request)

    return [
        Route("/v2/models/{name}/infer", fast_infer, methods=["POST"], include_in_schema=False),
        Route(
            "/v2/models/{name}/versions/{version}/infer",
            fast_version_infer,
            methods=["POST"],
            include_in_schema=False,
        ),
    ]
