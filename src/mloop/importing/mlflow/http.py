"""A small JSON-over-HTTP client for a running MLflow server (standard library only).

It speaks MLflow's REST API 2.0 (``/api/2.0/mlflow/...``) and its artifact
proxy (``/api/2.0/mlflow-artifacts/artifacts``). Every failure becomes an
mloop error naming the server with any credentials in its URL masked.

Example:
    >>> MlflowHttp("http://127.0.0.1:5000/").base
    'http://127.0.0.1:5000'
    >>> server = MlflowHttp("https://ana:S3CRET@mlflow.example.com", environ={})
    >>> (server.base, sorted(server.headers))
    ('https://mlflow.example.com', ['Authorization'])
"""

from __future__ import annotations

import base64
import json
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mloop.config import mlflow_server_credentials
from mloop.errors import InvalidInput, NotFound, PermissionDenied, StoreError
from mloop.masking import mask_uri

API = "/api/2.0/mlflow"
ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts"
TIMEOUT_SECONDS = 30.0


USERNAME_ENV = "MLFLOW_TRACKING_USERNAME"
PASSWORD_ENV = "MLFLOW_TRACKING_PASSWORD"
TOKEN_ENV = "MLFLOW_TRACKING_TOKEN"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _authorization(parsed: urllib.parse.SplitResult, environ: Mapping[str, str]) -> str:
    """The Authorization header: ``user:password@`` in the URL, else MLflow's variables."""
    if parsed.username is not None:
        return _basic(
            urllib.parse.unquote(parsed.username), urllib.parse.unquote(parsed.password or "")
        )
    user, password = environ.get(USERNAME_ENV), environ.get(PASSWORD_ENV)
    if user and password is not None:
        return _basic(user, password)
    token = environ.get(TOKEN_ENV)
    return f"Bearer {token}" if token else ""


class MlflowHttp:
    """Requests to one MLflow server, with the credentials MLflow's client would send.

    ``user:password@`` in the URL is sent as HTTP basic auth (never as part of
    a URL); else ``MLFLOW_TRACKING_USERNAME`` and ``MLFLOW_TRACKING_PASSWORD``
    as basic auth, else ``MLFLOW_TRACKING_TOKEN`` as a bearer token, read from
    ``environ`` (default the process environment). They go in request headers
    only: never in a message, a log or the store.
    """

    def __init__(
        self,
        base: str,
        timeout: float = TIMEOUT_SECONDS,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        parsed = urllib.parse.urlsplit(base)
        if parsed.scheme not in {"http", "https"} or not parsed.hostname:
            raise InvalidInput(
                f"an MLflow server URL is http(s)://HOST[:PORT], got {mask_uri(base)!r}"
            )
        self.headers: dict[str, str] = {}
        authorization = _authorization(parsed, mlflow_server_credentials(environ))
        if authorization:
            self.headers["Authorization"] = authorization
        host = parsed.netloc.rpartition("@")[2]
        self.base = urllib.parse.urlunsplit((parsed.scheme, host, parsed.path, "", "")).rstrip("/")
        self.timeout = timeout

    @property
    def shown(self) -> str:
        """The server's URL, credentials masked."""
        return mask_uri(self.base)

    def get(self, endpoint: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``GET /api/2.0/mlflow/<endpoint>`` with query parameters; the decoded JSON."""
        query = urllib.parse.urlencode({k: v for k, v in (params or {}).items() if v is not None})
        url = f"{self.base}{API}/{endpoint}" + (f"?{query}" if query else "")
        return self._json(urllib.request.Request(url))

    def post(self, endpoint: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /api/2.0/mlflow/<endpoint>`` with a JSON body; the decoded JSON."""
        request = urllib.request.Request(
            f"{self.base}{API}/{endpoint}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        return self._json(request)

    def list_proxied(self, path: str) -> list[dict[str, Any]]:
        """The direct children of a folder in the server's artifact proxy."""
        query = urllib.parse.urlencode({"path": path})
        found = self._json(urllib.request.Request(f"{self.base}{ARTIFACTS_API}?{query}"))
        files: list[dict[str, Any]] = found.get("files", [])
        return files

    def download_proxied(self, path: str, destination: Path) -> None:
        """Download one file of the server's artifact proxy to ``destination``."""
        url = f"{self.base}{ARTIFACTS_API}/{urllib.parse.quote(path)}"
        with self._open(urllib.request.Request(url)) as response, destination.open("wb") as out:
            shutil.copyfileobj(response, out)

    def _json(self, request: urllib.request.Request) -> dict[str, Any]:
        with self._open(request) as response:
            body = response.read()
        try:
            decoded = json.loads(body or b"{}")
        except ValueError:
            raise StoreError(
                f"{self.shown} answered {request.full_url.removeprefix(self.base)} with "
                "something that is not JSON; is it an MLflow server?"
            ) from None
        if not isinstance(decoded, dict):
            raise StoreError(f"{self.shown} answered with unexpected JSON; is it MLflow?")
        return decoded

    def _open(self, request: urllib.request.Request) -> Any:
        where = request.full_url.removeprefix(self.base).split("?", 1)[0]
        for name, value in self.headers.items():
            request.add_header(name, value)
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as err:
            code, detail = _error_of(err)
            if err.code in {401, 403}:
                said = f"{code}: {detail}" if code else detail
                raise PermissionDenied(
                    f"{self.shown} refused {where}: HTTP {err.code} {said}; "
                    + (
                        "the credentials sent were not accepted"
                        if self.headers
                        else f"it needs a login: set {USERNAME_ENV} and {PASSWORD_ENV}, or "
                        f"{TOKEN_ENV}, as for MLflow's own client"
                    )
                ) from None
            if code:  # MLflow's own error answer: {"error_code": ..., "message": ...}
                error = NotFound if err.code == 404 else StoreError
                raise error(f"{self.shown} refused {where}: {code}: {detail}") from None
            if err.code in {404, 405, 501}:
                raise InvalidInput(
                    f"{self.shown} is not an MLflow server: it answered {where} with HTTP "
                    f"{err.code}; give the URL mlflow server listens on (http://HOST:PORT)"
                ) from None
            raise StoreError(f"{self.shown} refused {where}: HTTP {err.code} {detail}") from None
        except (urllib.error.URLError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise StoreError(
                f"cannot reach the MLflow server at {self.shown} ({reason}); is it running "
                "(mlflow server --host ... --port ...)?"
            ) from None


def _error_of(err: urllib.error.HTTPError) -> tuple[str, str]:
    """MLflow's ``(error_code, message)`` from an error answer; ``("", reason)`` otherwise."""
    try:
        body = json.loads(err.read() or b"{}")
    except (ValueError, OSError):
        return "", str(err.reason or "")
    if isinstance(body, dict) and body.get("error_code"):
        return str(body["error_code"]), str(body.get("message") or "")[:300]
    return "", str(err.reason or "")
