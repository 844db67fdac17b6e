"""What a unit of work read by reference: the dataset versions and model packages it got.

A reference can move (``bc@latest``, a tag, ``models:/credit@champion``): what
it named when a step ran is part of what the step computed from. The layer
that cares (the pipeline runner) opens a recorder around a step with
:func:`recording`; ``mloop.data.get`` and ``mloop.models.load`` report each
read to :func:`record`, which does nothing when no recorder is open. So the
domains below report without knowing who listens, and dependencies still
point down.

The recorder is a context variable: it follows the code of the step in its
thread (and in ``asyncio`` tasks), not into threads the step starts itself.

Example:
    >>> with recording() as seen:
    ...     record(Read("dataset", "bc@latest", "ab" * 32, "bc", "mloop-dataset:bc@2"))
    >>> [r.ref for r in seen], Read.from_dict(seen[0].as_dict()) == seen[0]
    (['bc@latest'], True)
    >>> record(Read("dataset", "bc", "ab" * 32, "bc", ""))  # no recorder: nothing happens
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from mloop.entities import RunIO

CONTEXT = "read"
"""The ``context`` of the run inputs that record reads."""

_recorder: contextvars.ContextVar[list[Read] | None] = contextvars.ContextVar(
    "mloop_reads", default=None
)


@dataclasses.dataclass(frozen=True)
class Read:
    """One read: the reference as written, and the digest of what it named then.

    ``kind`` is ``dataset`` or ``model``; ``name`` and ``source`` are those of
    the run input the read is recorded as (``source`` ``mloop-dataset:bc@2``
    for a dataset version).
    """

    kind: str
    ref: str
    digest: str
    name: str
    source: str

    def as_run_io(self) -> RunIO:
        """The read as a run input (context ``read``)."""
        return RunIO(self.digest, self.name, self.kind, "input", self.source, CONTEXT)

    def as_dict(self) -> dict[str, str]:
        """JSON-able form."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Read:
        """Back from :meth:`as_dict`."""
        return cls(**{f.name: str(data[f.name]) for f in dataclasses.fields(cls)})


@contextlib.contextmanager
def recording() -> Iterator[list[Read]]:
    """Collect the reads made inside the block (in this context), in order, without repeats."""
    seen: list[Read] = []
    token = _recorder.set(seen)
    try:
        yield seen
    finally:
        _recorder.reset(token)


def record(read: Read) -> None:
    """Report a read to the open recorder, if any (domains call this on every resolve)."""
    seen = _recorder.get()
    if seen is not None and read not in seen:
        seen.append(read)
