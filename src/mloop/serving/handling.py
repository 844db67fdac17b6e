"""One prediction request, from body to answer, in any protocol: routing, checks, log, metrics.

A :class:`Codec` is what a protocol adds: how a body becomes model input,
how predictions become a body, and how an error is written. :class:`Handler`
does the rest the same way for every protocol: it picks the version that
answers (a deployment's canary for its share, by the sticky header when there
is one), checks the input against that version's signature, waits for the
batched prediction, copies the request to the shadow, logs the exchange and
counts it.

Example:
    >>> status_of(TimeoutError()), message_of(TimeoutError())
    (504, "no answer within the server's timeout")
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mloop.errors import InvalidInput, MloopError
from mloop.serving.endpoints import current_of
from mloop.serving.http_body import read_body
from mloop.serving.inputs import rows_of
from mloop.serving.log_records import Prediction
from mloop.serving.server import ModelServer, ShadowAnswer

log = logging.getLogger("mloop.serving")

JSON = "application/json"

Decode = Callable[[bytes, Any, Request], tuple[Any, Mapping[str, Any]]]
Encode = Callable[[Any, str, str, Mapping[str, Any]], tuple[bytes, Mapping[str, str]]]


@dataclasses.dataclass(frozen=True)
class Codec:
    """A protocol's part of a request: decode a body, encode an answer, write an error.

    ``decode(body, signature, request)`` gives the model input and extras
    (``params``, ``media_type``, anything ``encode`` needs);
    ``encode(values, version, request_id, extras)`` the body and extra headers;
    ``error(message, status)`` an error body.
    """

    protocol: str
    decode: Decode
    encode: Encode
    error: Callable[[str, int], bytes]


def status_of(err: BaseException) -> int:
    """The HTTP status of an error: mloop's own, 504 for a timeout, else 500."""
    if isinstance(err, MloopError):
        return err.http_status
    if isinstance(err, TimeoutError):
        return 504
    return 500


def message_of(err: BaseException) -> str:
    """What the caller is told of an error."""
    if isinstance(err, TimeoutError):
        return "no answer within the server's timeout"
    if isinstance(err, MloopError):
        return str(err)
    return f"the model failed: {type(err).__name__}: {err}"


def request_id_of(request: Request) -> str:
    """The caller's ``x-request-id`` (up to 128 characters), else a new one."""
    given = request.headers.get("x-request-id")
    return given if given and len(given) <= 128 else uuid.uuid4().hex


def answer(
    body: bytes,
    status: int,
    request_id: str,
    *,
    version: str | None = None,
    headers: Mapping[str, str] | None = None,
    media_type: str = JSON,
) -> Response:
    """A response with the request id, the answering version and, for 503, ``Retry-After``."""
    extra = {"x-request-id": request_id, **(headers or {})}
    if version is not None:
        extra["x-model-version"] = version
    if status == 503:
        extra["retry-after"] = "1"
    return Response(body, status, headers=extra, media_type=media_type)


class Handler:
    """Answers prediction requests for a :class:`~mloop.serving.server.ModelServer`."""

    def __init__(self, server: ModelServer) -> None:
        self.server = server
        self.limit = server.settings.max_body_bytes
        self.metrics = server.metrics
        self.log = server.prediction_log
        self._hide_errors = bool(server.settings.prediction_log.pii)

    async def run(
        self, request: Request, name: str | None, codec: Codec, version: str | None = None
    ) -> Response:
        """One prediction request to endpoint ``name`` (None: the only one), answered.

        ``version`` asks for one version of the endpoint (the V2 protocol's
        ``/versions/{v}`` paths).
        """
        started = time.perf_counter()
        request_id = request_id_of(request)
        server = self.server
        endpoint_name, logged_as, model, label, role = name or "-", "-", "-", "-", None
        body_size, data = 0, None
        read = started
        chosen = False
        try:
            endpoint = server.endpoint(name)
            endpoint_name, logged_as = endpoint.name, endpoint.log_name
            body = await read_body(request, self.limit)
            body_size, read = len(body), time.perf_counter()
            header = endpoint.sticky_header
            role, served = endpoint.pick(request.headers.get(header) if header else None, version)
            current = current_of(served)
            model, label = served.name, current.label
            data, extra = codec.decode(body, current.model.signature, request)
            if rows_of(data) == 0:
                raise InvalidInput("the request holds no rows to predict")
            # From here a failure is the version's (its signature, its model), not the body's.
            chosen = True
            checked = (current, current.model.check_input(data))
            params = extra.get("params")
            result = await server.predict(endpoint_name, data, params, checked=checked)
            payload, headers = codec.encode(result.values, result.version, request_id, extra)
            record = Prediction(
                request_id,
                time.time(),
                logged_as,
                model,
                label,
                codec.protocol,
                data,
                result.values,
                time.perf_counter() - read,
                role=role,
            )
            self._keep(endpoint_name, record, body_size + len(payload), params, current)
            response = answer(
                payload,
                200,
                request_id,
                version=label,
                headers=headers,
                media_type=extra.get("media_type", JSON),
            )
            status = 200
        except Exception as err:
            status = status_of(err)
            message = message_of(err)
            if status == 500:
                log.exception("%s: request %s failed", endpoint_name, request_id)
            if chosen and self.log is not None:  # a version answered for it: its failure counts
                failed = Prediction(
                    request_id, time.time(), logged_as, model, label, codec.protocol,
                    data, None, time.perf_counter() - read, None, status,
                    self._kept_message(err, message), role,
                )  # fmt: skip
                self.log.record(failed, body_size)
            # Which version refused it, when one was chosen: a canary's 400s show as its own.
            chosen_label = None if label == "-" else label
            response = answer(
                codec.error(message, status), status, request_id, version=chosen_label
            )
        self.metrics.request(
            endpoint_name, label, codec.protocol, status, time.perf_counter() - started
        )
        return response

    def _keep(
        self, endpoint: str, record: Prediction, size: int, params: Any, current: Any
    ) -> None:
        """Log the exchange, with the shadow's answer to the same request when there is one."""
        log_ = self.log

        def finish(shadow: ShadowAnswer | None) -> None:
            if log_ is not None:  # turns it into a row and buffers it: no I/O here
                kept = record if shadow is None else record._replace(shadow=shadow.record())
                log_.record(kept, size)

        if not self.server.shadow(endpoint, current, record.inputs, params, finish):
            # Once the answer is on its way: converting a 1,000-row record takes about 1 ms.
            asyncio.get_running_loop().call_soon(finish, None)

    def _kept_message(self, err: BaseException, message: str) -> str:
        """The error as the log keeps it: not the text of a bad input when PII is hashed."""
        if self._hide_errors and isinstance(err, InvalidInput):
            return f"{type(err).__name__} (its text is not kept: the log hashes PII columns)"
        return message
