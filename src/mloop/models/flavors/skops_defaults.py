"""skops without importing every scikit-learn estimator first: loads that check each type they meet.

skops trusts scikit-learn's public estimators by default. It lists them when
``skops.io`` is imported, with ``sklearn.utils.all_estimators()``, which imports
every module of scikit-learn and, through them, pytest and whichever array
library is installed (torch among them): seconds, for a list of which a model
file uses one or two names. (Its list of scipy's ufuncs, about a fifth of a
second, is left to skops: deferring it would mean standing in for
``scipy.special`` itself while skops is imported, which another thread of the
process could see.)

:func:`skops_io` imports skops with those lists empty and puts a
:class:`DeferredTypeNames` in their place, which fills itself with skops's own
list the first time anything reads it. So saving, and any use of skops outside
mloop's loading, see exactly skops's defaults. Inside :func:`lean_defaults`, an
unfilled list reads as empty: skops then calls every estimator type of a file
untrusted, and the caller decides each one with :func:`is_default_estimator`,
which says whether skops's full list holds that type by importing only that
type's public scikit-learn package. What a load trusts this way is never more
than what it would trust with the full list.

Example:
    >>> sio = skops_io()
    >>> is_default_estimator("sklearn.linear_model._logistic.LogisticRegression")
    True
    >>> is_default_estimator("sklearn.utils._testing.MinimalClassifier")
    False
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib
import importlib.util
import sys
import threading
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from mloop.models.flavors import require

_LEAN = contextvars.ContextVar("mloop_skops_lean_defaults", default=False)
_IMPORT_LOCK = threading.Lock()


class DeferredTypeNames(list[str]):
    """skops's default list of estimator type names, computed on first read.

    Outside :func:`lean_defaults` any read fills the list first (once, under a
    lock), so it reads as skops's own list; inside, a list not yet filled reads
    as empty. Only reads are intercepted: skops never changes this list.

    Example:
        >>> names = DeferredTypeNames(lambda: ["sklearn.svm._classes.SVC"])
        >>> with lean_defaults():
        ...     names + ["x"]
        ['x']
        >>> names + ["x"]
        ['sklearn.svm._classes.SVC', 'x']
    """

    def __init__(self, compute: Callable[[], list[str]]) -> None:
        super().__init__()
        self._compute = compute
        self._filled = False
        self._lock = threading.Lock()

    @property
    def filled(self) -> bool:
        """Whether the names have been computed."""
        return self._filled

    def fill(self) -> None:
        """Compute the names now, unless done already."""
        with self._lock:
            if not self._filled:
                super().extend(self._compute())
                self._filled = True

    def _read(self) -> None:
        if not self._filled and not _LEAN.get():
            self.fill()

    def __add__(self, other: list[str]) -> list[str]:  # type: ignore[override]
        self._read()
        return list(self) + list(other)

    def __radd__(self, other: list[str]) -> list[str]:
        self._read()
        return list(other) + list(self)

    def __iter__(self) -> Iterator[str]:
        self._read()
        return super().__iter__()

    def __len__(self) -> int:
        self._read()
        return super().__len__()

    def __contains__(self, item: object) -> bool:
        self._read()
        return super().__contains__(item)

    def __getitem__(self, index: Any) -> Any:
        self._read()
        return super().__getitem__(index)

    def __eq__(self, other: object) -> bool:
        self._read()
        return super().__eq__(other)

    __hash__ = None  # as list's: unhashable

    def __repr__(self) -> str:
        self._read()
        return super().__repr__()


def _no_estimators(type_filter: object = None) -> list[tuple[str, type]]:
    return []


def skops_io() -> ModuleType:
    """``skops.io``, imported without listing every estimator (see the module's docstring).

    While skops is imported, ``sklearn.utils.all_estimators`` lists nothing (only skops
    and scikit-learn's own tests call it); the list is then deferred. If skops was imported
    already (by the user's code, say), it is returned as it is: its lists are full, and
    a lean load then simply finds nothing more to check.

    Raises:
        MissingExtra: skops or scikit-learn is not installed.
    """
    with _IMPORT_LOCK:
        if "skops.io" in sys.modules:
            return sys.modules["skops.io"]
        utils = require("sklearn.utils", "sklearn", "scikit-learn")
        listing = utils.all_estimators
        # Read once, by skops.io._trusted_types, as skops is imported.
        utils.all_estimators = _no_estimators
        try:
            sio: ModuleType = require("skops.io", "sklearn", "skops")
        finally:
            utils.all_estimators = listing
        _defer("SKLEARN_ESTIMATOR_TYPE_NAMES")
        return sio


@functools.cache
def _skops_own_lists() -> ModuleType:
    """A fresh run of skops's module of trusted types, with nothing stood in: its full lists.

    A module object of its own (``sys.modules`` keeps the one skops imported), so the
    lists are exactly the ones skops makes, however its version makes them.
    """
    spec = importlib.util.find_spec("skops.io._trusted_types")
    if spec is None or spec.loader is None:  # pragma: no cover - skops.io imported it
        raise ImportError("skops.io._trusted_types cannot be found")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _defer(names: str) -> None:
    """Put a deferred list where skops keeps the list ``names`` (each module that holds it).

    Only a list the stand-ins left empty is deferred; a skops that computes it some
    other way keeps its own (at worst narrower: a load then refuses, never trusts more).
    """
    holders = [sys.modules.get(m) for m in ("skops.io._trusted_types", "skops.io._general")]
    present = [h for h in holders if h is not None and hasattr(h, names)]
    if not present or any(getattr(h, names) != [] for h in present):
        return
    deferred = DeferredTypeNames(lambda: list(getattr(_skops_own_lists(), names)))
    for holder in present:
        setattr(holder, names, deferred)


@contextlib.contextmanager
def lean_defaults() -> Iterator[None]:
    """Inside, skops's estimator list reads as empty unless it was computed already.

    Example:
        >>> sio = skops_io()
        >>> with lean_defaults():
        ...     pass
    """
    token = _LEAN.set(True)
    try:
        yield
    finally:
        _LEAN.reset(token)


def is_default_estimator(name: str) -> bool:
    """Whether skops's default list holds the type ``module.Class``, found without the list.

    skops lists every class that ``sklearn.utils.all_estimators`` finds: a public,
    concrete ``BaseEstimator`` subclass that a public scikit-learn module (no part
    starting with ``_``, none of the parts it skips, such as ``tests``) exposes under
    its own name. This looks for the class in the public package its module sits in,
    the one place it is surely exposed; a class exposed elsewhere only gets False, and
    the caller then computes the full list. Only that package is imported, and only
    if it is one ``all_estimators`` imports too.
    """
    module, _, class_name = name.rpartition(".")
    parts = module.split(".")
    public = []
    for part in parts:
        if part.startswith("_"):
            break
        public.append(part)
    skipped = getattr(importlib.import_module("sklearn.utils.discovery"), "_MODULE_TO_IGNORE", None)
    if (
        parts[0] != "sklearn"
        or len(public) < 2
        or class_name.startswith("_")
        or class_name == "BaseEstimator"
        or not isinstance(skipped, (set, frozenset))
        or any(part in skipped for part in public)
    ):
        return False
    try:
        found = getattr(importlib.import_module(".".join(public)), class_name, None)
    except ImportError:
        return False
    base = importlib.import_module("sklearn.base").BaseEstimator
    get_type_name = importlib.import_module("skops.io._utils").get_type_name
    return (
        isinstance(found, type)
        and issubclass(found, base)
        and not getattr(found, "__abstractmethods__", None)
        and get_type_name(found) == name
    )
