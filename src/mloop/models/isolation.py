r"""Package code (``code_paths``) imported in a namespace of its own, per package digest.

Two versions of a model may ship a module of the same name (``thresh.py``)
with different code; a process that loads both must run each version's own
code. Python has one ``sys.modules``, so the import is scoped to the load:

1. Under one lock, the ``sys.modules`` entries the package's code could
   collide with are set aside: the top-level names ``code/`` provides (its
   ``*.py`` files and packages, with their submodules) and the modules its
   manifest references by name (the PythonModel or ``nn.Module`` class's
   module, which may import the shipped helpers). ``code/`` goes first on
   ``sys.path``, and no bytecode is written into the package (its files are
   exactly its manifest's).
2. The flavor loads the model: every ``import`` the package's modules make
   at import time resolves to the package's own files.
3. The package's modules leave the plain names: they stay alive through the
   objects that use them (a class keeps its module's globals), and they are
   kept, for whoever wants to see which code a model runs, as
   ``mloop_pkg_<digest12>.<name>`` in ``sys.modules``. The entries set aside
   come back, as does ``sys.path``.

Nothing is hooked into the import system (no ``sys.meta_path`` finder): the
scope lasts for one load. One consequence: a package's module should import
its helpers at the top, as modules usually do; an ``import thresh`` run later,
inside ``predict``, is outside the scope and finds the process's ``thresh``,
if any.

Example:
    >>> import pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "code").mkdir()
    >>> _ = (root / "code" / "thresh.py").write_text("CUT = 0.5\n")
    >>> with package_code(root, namespace="0123456789ab"):
    ...     import thresh
    >>> thresh.CUT, "thresh" in sys.modules, "mloop_pkg_0123456789ab.thresh" in sys.modules
    (0.5, False, True)
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
import types
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

CODE = "code"
_lock = threading.RLock()
_MISSING = object()


def references(loader: Mapping[str, Any]) -> list[str]:
    """The modules a flavor's loader settings name (``"module:Class"`` references)."""
    found = []
    for key in ("class", "module"):
        value = loader.get(key)
        if isinstance(value, str) and ":" in value:
            found.append(value.partition(":")[0])
    return found


def _code_names(code: Path) -> set[str]:
    names = set()
    for path in code.iterdir():
        if path.suffix == ".py" and path.stem.isidentifier():
            names.add(path.stem)
        elif path.is_dir() and path.name.isidentifier():
            names.add(path.name)
    return names


def _belongs(name: str, roots: Iterable[str]) -> bool:
    return any(name == root or name.startswith(f"{root}.") for root in roots)


def _take(roots: set[str]) -> dict[str, types.ModuleType]:
    """Remove and return the ``sys.modules`` entries under ``roots``."""
    return {name: sys.modules.pop(name) for name in list(sys.modules) if _belongs(name, roots)}


def _parent_attributes(roots: set[str]) -> list[tuple[types.ModuleType, str, Any]]:
    """For dotted names, the parent modules' attributes an import would overwrite."""
    found = []
    for root in roots:
        parent_name, _, child = root.rpartition(".")
        parent = sys.modules.get(parent_name) if parent_name else None
        if parent is not None:
            found.append((parent, child, getattr(parent, child, _MISSING)))
    return found


def _keep(namespace: str, modules: Mapping[str, types.ModuleType]) -> None:
    top = f"mloop_pkg_{namespace}"
    holder = sys.modules.get(top)
    if holder is None:
        holder = types.ModuleType(top, f"The code of model package {namespace}… (mloop).")
        sys.modules[top] = holder
    for name, module in modules.items():
        sys.modules[f"{top}.{name}"] = module


@contextlib.contextmanager
def package_code(
    root: Path, *, referenced: Iterable[str] = (), namespace: str | None = None
) -> Iterator[None]:
    """Inside the block, imports resolve to the package's ``code/`` (see the module docstring).

    ``referenced`` names modules the manifest imports classes from; ``namespace``
    (the package digest's first 12 hex) keeps the package's modules as
    ``mloop_pkg_<namespace>.<name>`` afterwards. A package without ``code/``
    changes nothing.
    """
    code = root / CODE
    if not code.is_dir():
        yield
        return
    # mloop's own modules are never set aside (a class of mloop's is the same for every package).
    roots = {r for r in _code_names(code) | set(referenced) if not _belongs(r, ["mloop"])}
    with _lock:
        saved = _take(roots)
        attributes = _parent_attributes(roots)
        path = str(code)
        sys.path.insert(0, path)
        writes_bytecode = sys.dont_write_bytecode
        sys.dont_write_bytecode = True
        importlib.invalidate_caches()
        try:
            yield
        finally:
            sys.dont_write_bytecode = writes_bytecode
            with contextlib.suppress(ValueError):
                sys.path.remove(path)
            own = _take(roots)
            sys.modules.update(saved)
            for parent, child, value in attributes:
                if value is _MISSING:
                    with contextlib.suppress(AttributeError):
                        delattr(parent, child)
                else:
                    setattr(parent, child, value)
            if namespace is not None:
                _keep(namespace, own)
