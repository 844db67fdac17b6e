"""Inference params at predict time, checked against the params a model's signature declares.

As MLflow does with a signature's ``ParamSchema``: a declared param the caller
leaves out gets its default; a given one is checked against its declared type
and shape and converted where that is safe (an int where a ``double`` is
declared becomes a float, ISO text where a ``datetime`` is declared becomes a
datetime, a tuple or 1-d array where a list is declared becomes a list); a
param the signature does not declare is dropped with a warning, and so are
all params given to a model whose signature declares none. A model without a
signature gets the caller's params as they are.

Example:
    >>> from mloop.models.signature import infer_signature
    >>> enforce = ParamEnforcer(infer_signature([[1.0]], params={"k": 3, "t": 0.5}))
    >>> enforce({"t": 1})
    {'t': 1.0, 'k': 3}
    >>> enforce({"k": "many"})
    Traceback (most recent call last):
    ...
    mloop.errors.InvalidInput: invalid params: param 'k' takes a long (an int), got str 'many'; ...
"""

from __future__ import annotations

import datetime as dt
import logging
import numbers
from collections.abc import Callable, Mapping
from typing import Any

from mloop.errors import InvalidInput
from mloop.models.signature import ParamSpec, Signature

logger = logging.getLogger(__name__)

_EXPECTED = {
    "boolean": "a boolean (True or False)",
    "long": "a long (an int)",
    "double": "a double (a float or an int)",
    "string": "a string",
    "datetime": "a datetime (a datetime, a date or ISO 8601 text)",
}


class _Refused(Exception):
    """A value that is not of the declared type (turned into one InvalidInput for all params)."""


def _boolean(value: Any) -> bool:
    if isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", None) == "b":
        return bool(value)
    raise _Refused


def _long(value: Any) -> int:
    # A bool is an int to Python, not to a signature; a float is never silently truncated.
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    raise _Refused


def _double(value: Any) -> float:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    raise _Refused


def _string(value: Any) -> str:
    if isinstance(value, str):
        return str(value)
    raise _Refused


def _datetime(value: Any) -> dt.date:
    if hasattr(value, "to_pydatetime"):  # a pandas Timestamp
        converted: dt.date = value.to_pydatetime()
        return converted
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            raise _Refused from None
    if type(value).__name__ == "datetime64":  # NumPy's, in microseconds so .item() is a datetime
        found = value.astype("datetime64[us]").item()
        if isinstance(found, dt.date):
            return found
    raise _Refused


_CONVERT: dict[str, Callable[[Any], Any]] = {
    "boolean": _boolean,
    "long": _long,
    "double": _double,
    "string": _string,
    "datetime": _datetime,
}


def _shown(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def convert(spec: ParamSpec, value: Any) -> Any:
    """``value`` as the model gets it for the param ``spec`` declares.

    None passes for a single value (MLflow lets it through); a list param
    takes a list, a tuple or a 1-d array and gives a list.

    Example:
        >>> convert(ParamSpec("ids", "long", [1], (-1,)), (4, 5))
        [4, 5]
        >>> convert(ParamSpec("since", "datetime", "2024-01-02T00:00:00"), "2024-03-01")
        datetime.datetime(2024, 3, 1, 0, 0)

    Raises:
        InvalidInput: a value of another type or shape, naming the param, the
            type expected and the value given.
    """
    to_type = _CONVERT[spec.type]
    expected = _EXPECTED[spec.type]
    if spec.shape is None:
        if value is None:
            return None
        if isinstance(value, list | tuple) or getattr(value, "ndim", 0) > 0:
            raise InvalidInput(
                f"param {spec.name!r} takes one value, {expected}, got {_shown(value)}"
            )
        try:
            return to_type(value)
        except _Refused:
            raise InvalidInput(
                f"param {spec.name!r} takes {expected}, got {_shown(value)}"
            ) from None
    items = value.tolist() if getattr(value, "ndim", None) == 1 else value
    if not isinstance(items, list | tuple):
        raise InvalidInput(
            f"param {spec.name!r} takes a list of {expected.removeprefix('a ')}, got "
            f"{_shown(value)}"
        )
    found = []
    for position, item in enumerate(items):
        try:
            found.append(to_type(item))
        except _Refused:
            raise InvalidInput(
                f"param {spec.name!r} takes a list of {expected.removeprefix('a ')}, got "
                f"{_shown(item)} at position {position}"
            ) from None
    return found


def _default(spec: ParamSpec) -> Any:
    """The default as the model gets it: a datetime's is kept as ISO text in the package."""
    if spec.default is None:
        return None
    try:
        return convert(spec, spec.default)
    except InvalidInput:  # a package written by hand may hold any default: load it as stored
        return spec.default


class ParamEnforcer:
    """The params a model's ``predict`` gets, from the caller's and the signature's; built once.

    Without a signature the caller's params pass as they are; with one that
    declares no params, given params are dropped with a warning. Calling it
    returns the params for the model, or None when there are none to pass.

    Raises (on call):
        InvalidInput: params that are not a mapping; a declared param of the
            wrong type or shape (every such param named in one message).
    """

    def __init__(self, signature: Signature | None) -> None:
        self._has_signature = signature is not None
        self.specs: tuple[ParamSpec, ...] = () if signature is None else signature.params or ()
        self._names = {s.name for s in self.specs}
        self._defaults = {s.name: _default(s) for s in self.specs}

    @property
    def fills_defaults(self) -> bool:
        """Whether the model gets params even when the caller gives none (it declares some)."""
        return bool(self.specs)

    def __call__(self, params: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The params for the model (see the class docstring)."""
        if params is not None and not isinstance(params, Mapping):
            raise InvalidInput(
                f"params are a mapping of param name to value, got {type(params).__name__}"
            )
        if not self._has_signature:
            return None if params is None else dict(params)
        if not self.specs:
            if params:
                logger.warning(
                    "params %s are ignored: the model's signature declares no params; log it "
                    "with a signature from infer_signature(..., params={...}) to take them",
                    sorted(map(str, params)),
                )
            return None
        given = dict(params or {})
        if any(not isinstance(name, str) for name in given):
            logger.warning("param names are strings; converting %s", list(given))
            given = {str(name): value for name, value in given.items()}
        unknown = sorted(set(given) - self._names)
        if unknown:
            logger.warning(
                "Unrecognized params %s are ignored for inference; the model's signature "
                "declares %s",
                unknown,
                sorted(self._names),
            )
        return self._resolved(given)

    def _resolved(self, given: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        problems = []
        for spec in self.specs:
            if spec.name not in given:
                default = self._defaults[spec.name]
                found[spec.name] = list(default) if isinstance(default, list) else default
                continue
            try:
                found[spec.name] = convert(spec, given[spec.name])
            except InvalidInput as err:
                problems.append(str(err))
        if problems:
            raise InvalidInput(
                f"invalid params: {'; '.join(problems)}; pass values of the types the model's "
                "signature declares"
            )
        # The caller's params first, in their order, then the defaults.
        return {name: found[name] for name in [*given, *found] if name in found}
