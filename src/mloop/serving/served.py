"""A model the server answers for: its URI, the version loaded now, and following the URI.

A URI that can move (``models:/credit@champion``, ``models:/credit`` for the
latest version) is looked up again every ``refresh_seconds``; when it names
another package, that package is loaded and verified as :func:`mloop.models.load`
verifies it, in the background, and only then takes the new requests. Requests
already queued for the old version are answered by it. A version that fails to
load or verify is refused and the one serving goes on, with the reason kept in
``last_error``.

Example:
    >>> served_name("models:/credit@champion")
    'credit'
    >>> served_name("runs:/0123456789abcdef0123456789abcdef/model")
    'model'
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from mloop.errors import InvalidInput, MloopError
from mloop.models.api import find, load_located
from mloop.models.backend import backend
from mloop.models.fetch import resolve_version
from mloop.models.uris import check_model_name, parse_model_uri, parse_version_ref

if TYPE_CHECKING:
    from mloop.context import Context
    from mloop.models.loaded import LoadedModel

log = logging.getLogger("mloop.serving")


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_SCHEMES = ("models", "runs")


def model_uri_of(text: str) -> str:
    """The model URI a user typed: ``NAME@ALIAS`` and ``NAME/VERSION`` are registry refs.

    An existing folder wins over the shorthand. A URI whose scheme mloop does
    not know (``model:/…``, ``s3://…``) is refused with the forms it takes.

    Example:
        >>> model_uri_of("credit@champion"), model_uri_of("credit/3")
        ('models:/credit@champion', 'models:/credit/3')
        >>> model_uri_of("model:/credit@champion")
        Traceback (most recent call last):
        ...
        mloop.errors.InvalidInput: 'model:/credit@champion' is not a model URI mloop knows: \
use models:/NAME@ALIAS, models:/NAME/VERSION, NAME@ALIAS, runs:/RUN_ID/PATH or a folder

    Raises:
        InvalidInput: an unknown scheme.
    """
    if Path(text).exists():
        return text
    scheme = _SCHEME.match(text)
    if scheme is not None and scheme.group(1) not in _SCHEMES and len(scheme.group(1)) > 1:
        raise InvalidInput(
            f"{text!r} is not a model URI mloop knows: use models:/NAME@ALIAS, "
            "models:/NAME/VERSION, NAME@ALIAS, runs:/RUN_ID/PATH or a folder"
        )
    if scheme is None and ("@" in text or "/" in text):
        try:
            ref = parse_version_ref(text)  # the registry's own grammar of NAME@ALIAS, NAME/3
        except InvalidInput:
            return text  # a path, then: its own error says what is wrong with it
        if ref.alias is not None or ref.version is not None:
            return f"models:/{text}"
    return text


def served_name(uri: str) -> str:
    """The name a model is served under by default: the registered name, else the last path part.

    Raises:
        InvalidInput: a malformed URI, or one with no usable name (pass ``--name``).
    """
    parsed = parse_model_uri(uri)
    if parsed.kind == "models":
        return parsed.name
    last = PurePath(parsed.path.rstrip("/")).name if parsed.path else ""
    try:
        return check_model_name(last)
    except InvalidInput:
        raise InvalidInput(
            f"{uri!r} gives no name to serve the model under; name it (--name NAME)"
        ) from None


@dataclasses.dataclass(frozen=True)
class Version:
    """One loaded package: the model, its registered version (None for a folder or run), digest."""

    model: LoadedModel
    version: str | None
    digest: str

    @property
    def label(self) -> str:
        """The version for labels and responses: the number, else the digest's first 12 digits."""
        return self.version if self.version is not None else self.digest[:12]


class ServedModel:
    """One model of a server: the URI it follows and the :class:`Version` serving now."""

    def __init__(
        self,
        name: str,
        uri: str,
        *,
        context: Context | None = None,
        shared: Callable[[str], Version | None] | None = None,
    ) -> None:
        self.name = check_model_name(name)
        self.uri = uri
        self._context = context
        # A package already loaded beside this one (by digest): used, not loaded again.
        self._shared = shared
        self._parsed = parse_model_uri(uri)
        self.current: Version | None = None
        self.last_error: str | None = None
        self.loaded_at: float | None = None
        self._lock = threading.Lock()

    @property
    def moves(self) -> bool:
        """Whether the URI can name another package later (an alias or the latest version)."""
        return self._parsed.kind == "models" and self._parsed.version is None

    @property
    def ready(self) -> bool:
        """Whether a version is loaded and answering."""
        return self.current is not None

    def refresh(self) -> Version | None:
        """Look the URI up and load what it names if that changed; the new version, else None.

        The first load's errors are raised; a later one that fails keeps the
        version serving and records the reason in ``last_error``.

        Raises:
            MloopError: the first load failed (not found, refused, missing extra).
        """
        with self._lock:
            try:
                found = self._load_if_changed()
            except MloopError as err:
                if self.current is None:
                    raise
                if self.last_error != str(err):
                    log.warning("%s: keeps serving %s: %s", self.name, self.current.label, err)
                self.last_error = str(err)
                return None
            self.last_error = None
            if found is not None:
                self.current = found
                self.loaded_at = time.time()
            return found

    def _load_if_changed(self) -> Version | None:
        version = None
        uri = self.uri
        if self._parsed.kind == "models":
            # The version first, then its package: an alias moving meanwhile cannot mix the two.
            named = resolve_version(backend(self._context), self._parsed)
            if self.current is not None and named.digest == self.current.digest:
                return None
            version = str(named.version)
            uri = f"models:/{named.name}/{named.version}"
        be, located = find(uri, context=self._context)
        if self.current is not None and located.digest == self.current.digest:
            return None
        loaded = None if self._shared is None else self._shared(located.digest)
        model = loaded.model if loaded is not None else load_located(be, located)
        if self.current is not None:
            log.info("%s: version %s replaces %s", self.name, version, self.current.label)
        return Version(model, version, located.digest)

    def describe(self) -> dict[str, Any]:
        """What ``/health`` shows of this model."""
        current = self.current
        return {
            "name": self.name,
            "uri": self.uri,
            "ready": current is not None,
            "version": None if current is None else current.version,
            "digest": None if current is None else current.digest,
            "error": self.last_error,
        }
