"""MLflow's exception module, by MLflow's import path.

``MlflowException`` is :class:`mloop.errors.MloopError` under MLflow's name,
so a script's ``except MlflowException`` catches every error mloop raises on
purpose. Its ``code`` attribute holds MLflow's error code name
(``RESOURCE_DOES_NOT_EXIST``, ``INVALID_PARAMETER_VALUE`` …) and
``http_status`` the status MLflow's server would answer with.

Example:
    >>> import mloop
    >>> from mloop.exceptions import MlflowException
    >>> try:
    ...     mloop.MlflowClient("sqlite://").get_registered_model("no-such-model")
    ... except MlflowException as err:
    ...     err.code
    'RESOURCE_DOES_NOT_EXIST'
"""

from __future__ import annotations

from mloop.errors import MloopError

MlflowException = MloopError
"""MLflow's root exception: the same class as :class:`mloop.errors.MloopError`."""

__all__ = ["MlflowException"]
