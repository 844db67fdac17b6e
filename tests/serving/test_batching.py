"""The batcher: each request gets its own answer, batches form only under load, the queue is bounded."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mloop.errors import InvalidInput
from mloop.serving.batching import Batcher, BatchSettings, BatchStats, QueueFull, split_rows
from mloop.serving.inputs import combine


class Model:
    """Doubles each row; slow enough that requests pile up; fails on a negative value."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds
        self.calls: list[int] = []
        self.threads: set[str] = set()

    def __call__(self, data: Any) -> Any:
        self.threads.add(threading.current_thread().name)
        self.calls.append(len(data))
        if self.seconds:
            time.sleep(self.seconds)
        if (np.asarray(data) < 0).any():
            raise ValueError("negative input")
        return np.asarray(data) * 2


def batcher(model: Model, stats: list[BatchStats] | None = None, **settings: Any) -> Batcher:
    return Batcher(
        model,
        combine=combine,
        settings=BatchSettings(**settings),
        on_batch=None if stats is None else stats.append,
    )


def test_a_lone_request_goes_at_once_even_with_a_long_wait() -> None:
    model = Model()

    async def main() -> float:
        b = batcher(model, max_wait_ms=5_000)
        started = time.monotonic()
        answer = await b.submit(np.array([[1.0]]), rows=1)
        took = time.monotonic() - started
        assert answer.tolist() == [[2.0]]
        await b.close()
        return took

    assert asyncio.run(main()) < 1.0
    assert model.calls == [1]


def test_concurrent_requests_each_get_their_own_rows() -> None:
    model = Model(seconds=0.02)
    stats: list[BatchStats] = []

    async def main() -> list[Any]:
        b = batcher(model, stats, max_batch_rows=64, max_wait_ms=1)
        sizes = [1, 3, 1, 2, 5, 1, 1, 4] * 4
        inputs = [np.arange(i, i + n, dtype=float).reshape(n, 1) for i, n in enumerate(sizes)]
        answers = await asyncio.gather(*(b.submit(x, rows=len(x)) for x in inputs))
        await b.close()
        for x, answer in zip(inputs, answers, strict=True):
            assert answer.tolist() == (x * 2).tolist()
        return answers

    asyncio.run(main())
    # Requests that arrive together share model calls, never more than 64 rows in one.
    assert len(model.calls) < 32
    assert max(model.calls) <= 64
    assert max(s.requests for s in stats) > 1
    assert sum(s.rows for s in stats) == sum([1, 3, 1, 2, 5, 1, 1, 4] * 4)


def test_batches_never_pass_the_row_limit() -> None:
    model = Model(seconds=0.01)

    async def main() -> None:
        b = batcher(model, max_batch_rows=4)
        await asyncio.gather(*(b.submit(np.ones((2, 1)), rows=2) for _ in range(10)))
        await b.close()

    asyncio.run(main())
    assert max(model.calls) <= 4


def test_one_failing_request_does_not_fail_the_others() -> None:
    model = Model(seconds=0.01)
    stats: list[BatchStats] = []

    async def main() -> list[Any]:
        b = batcher(model, stats)
        inputs = [np.array([[float(i)]]) for i in range(1, 9)]
        inputs[5] = np.array([[-1.0]])
        results = await asyncio.gather(
            *(b.submit(x, rows=1) for x in inputs), return_exceptions=True
        )
        await b.close()
        return results

    results = asyncio.run(main())
    assert isinstance(results[5], ValueError)
    good = [r for i, r in enumerate(results) if i != 5]
    assert [r.tolist() for r in good] == [[[2.0 * i]] for i in (1, 2, 3, 4, 5, 7, 8)]
    assert any(s.split for s in stats)


def test_a_full_queue_refuses_at_once() -> None:
    model = Model(seconds=0.05)

    async def main() -> list[Any]:
        b = batcher(model, max_queue=2, max_batch_rows=1)
        results = await asyncio.gather(
            *(b.submit(np.ones((1, 1)), rows=1) for _ in range(6)), return_exceptions=True
        )
        await b.close()
        return results

    results = asyncio.run(main())
    refused = [r for r in results if isinstance(r, QueueFull)]
    assert refused and len(refused) < 6
    assert all(not isinstance(r, Exception) or isinstance(r, QueueFull) for r in results)


def test_requests_alone_never_share_a_call() -> None:
    model = Model(seconds=0.01)

    async def main() -> None:
        b = batcher(model)
        await asyncio.gather(
            *(b.submit(np.ones((1, 1)), rows=1, alone=i % 2 == 0) for i in range(8))
        )
        await b.close()

    asyncio.run(main())
    assert len(model.calls) >= 4


def test_the_model_runs_off_the_event_loop_on_one_thread() -> None:
    model = Model()

    async def main() -> None:
        b = batcher(model)
        await asyncio.gather(*(b.submit(np.ones((1, 1)), rows=1) for _ in range(5)))
        await b.close()

    asyncio.run(main())
    assert len(model.threads) == 1
    assert next(iter(model.threads)).startswith("mloop-predict")


def test_close_answers_what_is_queued_and_refuses_new_requests() -> None:
    model = Model(seconds=0.02)

    async def main() -> None:
        b = batcher(model, max_batch_rows=1)
        pending = [asyncio.ensure_future(b.submit(np.ones((1, 1)), rows=1)) for _ in range(4)]
        await asyncio.sleep(0)
        await b.close()
        assert all(p.done() and not p.exception() for p in pending)
        with pytest.raises(QueueFull):
            await b.submit(np.ones((1, 1)), rows=1)

    asyncio.run(main())


def test_frames_are_joined_and_cut_by_position() -> None:
    parts = [pd.DataFrame({"x": [1.0]}, index=[7]), pd.DataFrame({"x": [2.0, 3.0]}, index=[0, 1])]
    joined = combine(parts)
    assert joined["x"].tolist() == [1.0, 2.0, 3.0]
    cut = split_rows(pd.Series([10, 20, 30], index=[5, 6, 7]), [1, 2])
    assert [c.tolist() for c in cut] == [[10], [20, 30]]


def test_an_answer_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="answered 2 rows for a batch of 3"):
        split_rows([1, 2], [1, 2])


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"max_batch_rows": 0}, "max_batch_rows"),
        ({"max_queue": -1}, "max_queue"),
        ({"max_wait_ms": -1}, "max_wait_ms"),
        ({"max_wait_ms": True}, "max_wait_ms"),
    ],
)
def test_bad_settings_are_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        BatchSettings(**settings)


def test_requests_that_queue_behind_a_busy_model_go_together() -> None:
    model = Model(seconds=0.05)

    async def main() -> None:
        b = batcher(model, max_wait_ms=0)
        first = asyncio.ensure_future(b.submit(np.ones((1, 1)), rows=1))
        while not b.busy:
            await asyncio.sleep(0.001)
        rest = [b.submit(np.ones((1, 1)), rows=1) for _ in range(5)]
        await asyncio.gather(first, *rest)
        await b.close()

    asyncio.run(main())
    assert model.calls == [1, 5]
