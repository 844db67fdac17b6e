"""The one exception hierarchy of mloop.

Every error mloop raises on purpose is a :class:`MloopError`. Each leaf carries
the HTTP status the server will answer with and the exit code the CLI exits
with, so the three faces of mloop agree on what went wrong::

    MloopError                    500  exit 10  an error of no narrower kind
    ├── InvalidInput              400  exit 2   bad argument, malformed filter, bad name
    │   ├── FilterSyntaxError     400  exit 2   search filter that does not parse
    │   └── UnsupportedMediaType  415  exit 2   a request body in a format not accepted
    ├── NotFound                  404  exit 3   no such run, experiment, artifact
    ├── AlreadyExists             409  exit 4   a unique name taken
    ├── Conflict                  409  exit 11  a write that contradicts stored state
    ├── PermissionDenied          403  exit 5
    ├── IntegrityError            500  exit 6   stored bytes do not match their hash
    ├── StoreError                503  exit 7   the metadata or artifact store failed
    ├── MissingExtra              500  exit 8   an optional dependency is not installed
    ├── PipelineFailed            500  exit 9   a pipeline step failed after its retries
    └── NotificationFailed        502  exit 12  a notifier could not deliver an alert

The command line keeps exit code 1 for one meaning only, a check that ran and
said no (a data validation, a model gate), so CI can tell "the gate said no"
from a crash. Besides the codes above it exits :data:`EXIT_INTERNAL` (70, the
``EX_SOFTWARE`` of ``sysexits.h``) on an unexpected exception, a bug in mloop,
and :data:`EXIT_INTERRUPTED` (130, as shells report SIGINT) when the user stops
a command with Ctrl-C or declines a confirmation.

Messages say what was wrong, quote the offending value, and say how to fix it.
"""

from __future__ import annotations

from typing import Final

EXIT_CHECK_FAILED: Final = 1
"""Exit code of a check that ran and failed: a data validation, a model gate."""

EXIT_INTERNAL: Final = 70
"""Exit code of an unexpected exception: a bug in mloop, to be reported."""

EXIT_INTERRUPTED: Final = 130
"""Exit code of a command the user stopped (Ctrl-C, a declined confirmation)."""


class MloopError(Exception):
    """Root of every error mloop raises on purpose.

    Example:
        >>> try:
        ...     raise NotFound("run 'abc' not found")
        ... except MloopError as err:
        ...     (err.http_status, err.exit_code)
        (404, 3)
    """

    http_status: int = 500
    exit_code: int = 10
    code: str = "INTERNAL_ERROR"


class InvalidInput(MloopError, ValueError):
    """An argument is malformed: a bad name, value, type or filter."""

    http_status = 400
    exit_code = 2
    code = "INVALID_PARAMETER_VALUE"


class FilterSyntaxError(InvalidInput):
    """A search filter or order-by clause does not parse.

    Attributes:
        text: the whole filter string.
        position: zero-based offset of the offending character.
    """

    def __init__(self, message: str, text: str, position: int) -> None:
        # A filter longer than a few lines is shown as 100 characters either side.
        start = max(0, position - 100) if len(text) > 240 else 0
        end = position + 100 if len(text) > 240 else len(text)
        shown = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
        pointer = f"\n  {shown}\n  {' ' * (position - start + (1 if start else 0))}^"
        super().__init__(f"{message} at position {position}:{pointer}")
        self.text = text
        self.position = position


class UnsupportedMediaType(InvalidInput):
    """A request body comes in a content type (or charset) the endpoint does not accept.

    Example:
        >>> UnsupportedMediaType("text/plain is not accepted").http_status
        415
    """

    http_status = 415


class NotFound(MloopError, LookupError):
    """The named thing does not exist."""

    http_status = 404
    exit_code = 3
    code = "RESOURCE_DOES_NOT_EXIST"


class AlreadyExists(MloopError):
    """A unique name is already taken."""

    http_status = 409
    exit_code = 4
    code = "RESOURCE_ALREADY_EXISTS"


class Conflict(MloopError):
    """A write contradicts stored state (e.g. a param logged twice with two values)."""

    http_status = 409
    exit_code = 11
    code = "INVALID_STATE"


class PermissionDenied(MloopError):
    """The caller may not do this."""

    http_status = 403
    exit_code = 5
    code = "PERMISSION_DENIED"


class IntegrityError(MloopError):
    """Stored bytes do not match the hash they are stored under."""

    http_status = 500
    exit_code = 6
    code = "DATA_LOSS"


class StoreError(MloopError):
    """The metadata or artifact store could not complete an operation."""

    http_status = 503
    exit_code = 7
    code = "TEMPORARILY_UNAVAILABLE"


class MissingExtra(MloopError, ImportError):
    """An optional dependency is needed but not installed.

    Example:
        >>> print(MissingExtra("psycopg", extra="postgres"))
        psycopg is not installed; install it with: pip install 'mloop[postgres]'
    """

    exit_code = 8
    code = "MISSING_DEPENDENCY"

    def __init__(self, package: str, *, extra: str) -> None:
        super().__init__(
            f"{package} is not installed; install it with: pip install 'mloop[{extra}]'"
        )
        self.package = package
        self.extra = extra


class PipelineFailed(MloopError):
    """A pipeline step failed after its retries; the pipeline run is marked FAILED.

    ``run_id`` is the pipeline run (resume it with ``mloop.pipelines.resume``),
    ``step`` the step that failed.
    """

    http_status = 500
    exit_code = 9
    code = "PIPELINE_FAILED"

    def __init__(self, message: str, *, run_id: str, step: str) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.step = step


class NotificationFailed(MloopError):
    """A notifier could not deliver alerts: the receiver refused, failed or did not answer.

    The message names the notifier and the receiver with its secrets masked,
    never a webhook's token or a password.

    Example:
        >>> NotificationFailed("slack: https://hooks.slack.com/services/*** answered 500").code
        'NOTIFICATION_FAILED'
    """

    http_status = 502
    exit_code = 12
    code = "NOTIFICATION_FAILED"


class MloopWarning(UserWarning):
    """Something mloop did may not be what was meant, though it is not an error.

    Raised with :func:`warnings.warn`: a search filter naming a metric no run
    has, a table that looks like it holds personal data. The CLI prints these
    as ``warning: ...`` on stderr.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     warnings.warn("no run has metrics.val_aucc", MloopWarning, stacklevel=1)
        >>> caught[0].category.__name__
        'MloopWarning'
    """
