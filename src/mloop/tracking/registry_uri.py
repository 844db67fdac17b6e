"""MLflow's ``set_registry_uri`` and ``get_registry_uri``: the registry is in the tracking store.

MLflow can keep its model registry in a store apart from runs. mloop keeps
registered models beside the runs they came from, in one store, so the
registry URI is the tracking URI: setting it to that same store is accepted
(MLflow scripts often do), setting it elsewhere is refused with what to do.

Example:
    >>> import mloop, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> mloop.set_tracking_uri(folder)
    >>> mloop.set_registry_uri(folder)
    >>> mloop.get_registry_uri() == mloop.get_tracking_uri()
    True
    >>> mloop.set_tracking_uri("")
"""

from __future__ import annotations

import os

from mloop.config import tracking_uri_from
from mloop.errors import InvalidInput
from mloop.masking import mask_uri
from mloop.tracking.fluent_target import get_tracking_uri


def get_registry_uri() -> str:
    """The store holding the model registry: the tracking URI (see :func:`mloop.get_tracking_uri`).

    Example:
        >>> import mloop
        >>> mloop.get_registry_uri() == mloop.get_tracking_uri()
        True
    """
    return get_tracking_uri()


def set_registry_uri(uri: str | os.PathLike[str] | None) -> None:
    """Accept the tracking store as the registry's; refuse any other store.

    None or ``""`` leaves the registry where it always is, with the runs.

    Raises:
        InvalidInput: ``uri`` names a store other than the tracking store
            (the message says to use :func:`mloop.set_tracking_uri`).

    Example:
        >>> import mloop
        >>> mloop.set_registry_uri(mloop.get_tracking_uri())
    """
    text = "" if uri is None else os.fspath(uri).strip()
    current = get_tracking_uri()
    if text and tracking_uri_from(text) != current:
        raise InvalidInput(
            f"mloop keeps the model registry in the tracking store ({mask_uri(current)}), "
            f"not in {mask_uri(text)!r}: to use that store for both, call "
            f"mloop.set_tracking_uri({mask_uri(text)!r}); otherwise leave the registry URI unset"
        )
