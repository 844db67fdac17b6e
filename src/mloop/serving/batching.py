"""Adaptive batching: one model call for the requests that queued while the model was busy.

A request that reaches an idle model is predicted at once, alone: batching
never adds latency to a quiet server. While the model works, new requests
queue; when it is free again they go to it together, up to ``max_batch_rows``
rows, and a batch that could still grow waits for more only while its oldest
request has waited less than ``max_wait_ms``. The queue is bounded: a request
that finds ``max_queue`` requests waiting is refused at once with
:class:`QueueFull` (the server answers 503 with ``Retry-After``), so a
overloaded server sheds load instead of answering everyone late.

Each request gets its own rows of the batch's answer. When the batch fails as
a whole (one bad row can make a model raise for all), every request of it is
predicted alone, so only the request at fault gets the error.

Example:
    >>> import asyncio
    >>> def predict(batch):
    ...     return [2 * x for x in batch]
    >>> async def main():
    ...     batcher = Batcher(predict, combine=lambda parts: sum(parts, []))
    ...     answers = await asyncio.gather(*(batcher.submit([i], rows=1) for i in range(4)))
    ...     await batcher.close()
    ...     return answers
    >>> asyncio.run(main())
    [[0], [2], [4], [6]]
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mloop.errors import MloopError


class QueueFull(MloopError):
    """The model's queue is full: the request was refused without being queued (503)."""

    http_status = 503


@dataclasses.dataclass(frozen=True)
class BatchSettings:
    """How one model's requests are batched.

    ``max_batch_rows``: rows in one model call (1 turns batching off);
    ``max_wait_ms``: how long a batch that could still grow may hold its
    oldest request; ``max_queue``: requests that may wait before new ones are
    refused.

    Example:
        >>> BatchSettings(max_batch_rows=0)
        Traceback (most recent call last):
        ...
        mloop.errors.InvalidInput: max_batch_rows must be an integer >= 1, got 0
    """

    max_batch_rows: int = 64
    max_wait_ms: float = 2.0
    max_queue: int = 1024

    def __post_init__(self) -> None:
        from mloop.errors import InvalidInput

        for name in ("max_batch_rows", "max_queue"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInput(f"{name} must be an integer >= 1, got {value!r}")
        wait = self.max_wait_ms
        if isinstance(wait, bool) or not isinstance(wait, (int, float)) or not 0 <= wait <= 10_000:
            raise InvalidInput(f"max_wait_ms must be a number from 0 to 10000, got {wait!r}")


@dataclasses.dataclass
class _Pending:
    data: Any
    rows: int
    alone: bool  # carries its own params, or may not share a call for another reason
    arrived: float
    busy_on_arrival: bool
    future: asyncio.Future[Any]


@dataclasses.dataclass(frozen=True)
class BatchStats:
    """What one model call carried: its requests and rows, and whether it was split up."""

    requests: int
    rows: int
    seconds: float
    split: bool


class Batcher:
    """Queues one model's requests and predicts them in batches on a thread of its own.

    ``predict(data)`` runs a model on combined input; ``combine(parts)`` joins
    the inputs of several requests into one (``pd.concat``, ``np.concatenate``);
    ``split(result, rows)`` cuts one answer into the requests' parts (by
    default :func:`split_rows`). ``on_batch`` is told about every model call.
    """

    def __init__(
        self,
        predict: Callable[[Any], Any],
        *,
        combine: Callable[[Sequence[Any]], Any],
        split: Callable[[Any, Sequence[int]], list[Any]] | None = None,
        settings: BatchSettings | None = None,
        on_batch: Callable[[BatchStats], None] | None = None,
        name: str = "model",
    ) -> None:
        self._predict = predict
        self._combine = combine
        self._split = split or split_rows
        self.settings = settings or BatchSettings()
        self._on_batch = on_batch
        self._queue: collections.deque[_Pending] = collections.deque()
        self._wakeup: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._busy = False
        self._closed = False
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"mloop-predict-{name}")

    @property
    def queued(self) -> int:
        """Requests waiting for the model."""
        return len(self._queue)

    @property
    def busy(self) -> bool:
        """Whether the model is predicting now."""
        return self._busy

    async def submit(self, data: Any, *, rows: int, alone: bool = False) -> Any:
        """The model's answer for ``data`` (``rows`` rows); alone: never shares a model call.

        Raises:
            QueueFull: ``max_queue`` requests are waiting already.
            Exception: whatever the model raised for this request.
        """
        if self._closed:
            raise QueueFull("the server is shutting down")
        if len(self._queue) >= self.settings.max_queue:
            raise QueueFull(f"{len(self._queue)} requests are waiting for the model")
        loop = asyncio.get_running_loop()
        if self._worker is None:
            self._wakeup = asyncio.Event()
            self._worker = loop.create_task(self._work())
        pending = _Pending(data, rows, alone, time.monotonic(), self._busy, loop.create_future())
        self._queue.append(pending)
        assert self._wakeup is not None
        self._wakeup.set()
        return await pending.future

    async def close(self) -> None:
        """Answer what is queued, then stop the worker (new requests get :class:`QueueFull`)."""
        self._closed = True
        if self._worker is not None:
            assert self._wakeup is not None
            self._wakeup.set()
            await self._worker
            self._worker = None
        self._executor.shutdown(wait=True)

    async def _work(self) -> None:
        assert self._wakeup is not None
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                if self._closed:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            batch = await self._take()
            self._busy = True
            started = time.monotonic()
            try:
                outcomes = await loop.run_in_executor(self._executor, self._run, batch)
            finally:
                self._busy = False
            for pending, (ok, value) in zip(batch, outcomes[0], strict=True):
                if pending.future.done():  # the client went away
                    continue
                if ok:
                    pending.future.set_result(value)
                else:
                    pending.future.set_exception(value)
            if self._on_batch is not None:
                self._on_batch(
                    BatchStats(
                        len(batch),
                        sum(p.rows for p in batch),
                        time.monotonic() - started,
                        outcomes[1],
                    )
                )

    async def _take(self) -> list[_Pending]:
        """The next batch: the oldest request and those that may join it."""
        first = self._queue.popleft()
        batch = [first]
        limit = self.settings.max_batch_rows
        if first.alone or limit == 1:
            return batch
        rows = first.rows
        # A request that found the model idle goes at once; one that queued behind a busy
        # model may hold the batch open until it has waited max_wait_ms in all.
        deadline = first.arrived + self.settings.max_wait_ms / 1000
        waits = first.busy_on_arrival or bool(self._queue)
        while rows < limit:
            if self._queue:
                nxt = self._queue[0]
                if nxt.alone or rows + nxt.rows > limit:
                    break
                batch.append(self._queue.popleft())
                rows += nxt.rows
                continue
            remaining = deadline - time.monotonic()
            if not waits or remaining <= 0 or self._closed:
                break
            assert self._wakeup is not None
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), remaining)
            except TimeoutError:
                break
        return batch

    def _run(self, batch: list[_Pending]) -> tuple[list[tuple[bool, Any]], bool]:
        """Outcomes ``(ok, answer or error)`` per request, and whether the batch was split."""
        if len(batch) == 1:
            return [self._one(batch[0])], False
        try:
            combined = self._combine([p.data for p in batch])
            answer = self._predict(combined)
            parts = self._split(answer, [p.rows for p in batch])
        except Exception:  # one request spoiled the call: each is answered alone
            return [self._one(p) for p in batch], True
        return [(True, part) for part in parts], False

    def _one(self, pending: _Pending) -> tuple[bool, Any]:
        try:
            return True, self._predict(pending.data)
        except Exception as err:
            return False, err


def split_rows(answer: Any, rows: Sequence[int]) -> list[Any]:
    """Cut a model's answer for a batch into each request's rows.

    Works for anything sliced by row: numpy arrays, pandas frames and series
    (by position), lists, and dicts of those (each value cut the same way).

    Example:
        >>> split_rows([10, 11, 12], [1, 2])
        [[10], [11, 12]]
        >>> split_rows({"label": [0, 1, 1]}, [2, 1])
        [{'label': [0, 1]}, {'label': [1]}]

    Raises:
        ValueError: the answer has another number of rows than the batch.
    """
    total = sum(rows)
    if isinstance(answer, dict):
        columns = {key: split_rows(value, rows) for key, value in answer.items()}
        return [{key: parts[i] for key, parts in columns.items()} for i in range(len(rows))]
    length = len(answer)
    if length != total:
        raise ValueError(f"the model answered {length} rows for a batch of {total}")
    sliced = answer.iloc if hasattr(answer, "iloc") else answer
    parts = []
    start = 0
    for count in rows:
        parts.append(sliced[start : start + count])
        start += count
    return parts
