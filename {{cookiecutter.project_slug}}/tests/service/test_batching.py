"""Micro-batching: concurrent requests share model calls and each gets its own answers."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import numpy as np
import pytest

from {{ cookiecutter.module_name }}.serving.batching import MicroBatcher


class CountingScorer:
    """Scores a record as its `x`, slowly enough for requests to pile up."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, records: list[dict[str, Any]]) -> np.ndarray:
        self.calls.append(len(records))
        time.sleep(0.01)
        return np.array([record["x"] for record in records], dtype=float)


def test_concurrent_requests_share_calls_and_keep_their_order() -> None:
    scorer = CountingScorer()

    async def main() -> list[np.ndarray]:
        batcher = MicroBatcher(scorer)
        requests = [[{"x": 10 * i + j} for j in range(i % 3 + 1)] for i in range(50)]
        results = await asyncio.gather(*(batcher.score(rows) for rows in requests))
        batcher.close()
        return results

    results = asyncio.run(main())
    for i, result in enumerate(results):
        assert result.tolist() == [10 * i + j for j in range(i % 3 + 1)]
    assert len(scorer.calls) < 10
    assert sum(scorer.calls) == sum(i % 3 + 1 for i in range(50))


def test_a_lone_request_is_scored_at_once() -> None:
    scorer = CountingScorer()

    async def main() -> None:
        batcher = MicroBatcher(scorer)
        await batcher.score([{"x": 1}])
        await batcher.score([{"x": 2}])
        batcher.close()

    asyncio.run(main())
    assert scorer.calls == [1, 1]


def test_batches_respect_the_row_limit() -> None:
    scorer = CountingScorer()

    async def main() -> None:
        batcher = MicroBatcher(scorer, max_rows=4)
        await asyncio.gather(*(batcher.score([{"x": i}, {"x": i}]) for i in range(6)))
        batcher.close()

    asyncio.run(main())
    assert max(scorer.calls) <= 4


def test_small_batches_are_scored_on_the_event_loop_and_larger_ones_in_the_scoring_thread() -> None:
    threads: list[tuple[int, str]] = []

    def where(records: list[dict[str, Any]]) -> np.ndarray:
        threads.append((len(records), threading.current_thread().name))
        return np.arange(len(records), dtype=float)

    async def main() -> list[np.ndarray]:
        batcher = MicroBatcher(where, inline_rows=2)
        results = [await batcher.score([{"x": 1}, {"x": 2}]), await batcher.score([{"x": 1}] * 3)]
        batcher.close()
        return results

    assert [result.tolist() for result in asyncio.run(main())] == [[0, 1], [0, 1, 2]]
    assert threads[0] == (2, threading.current_thread().name)
    assert threads[1][0] == 3
    assert threads[1][1].startswith("scoring")


@pytest.mark.parametrize("inline_rows", [0, 16], ids=["scoring thread", "event loop"])
def test_a_model_failure_reaches_every_request_of_the_batch(inline_rows: int) -> None:
    def broken(records: list[dict[str, Any]]) -> np.ndarray:
        raise ValueError("model failed")

    async def main() -> list[Any]:
        batcher = MicroBatcher(broken, inline_rows=inline_rows)
        results = await asyncio.gather(*(batcher.score([{"x": 1}]) for _ in range(3)), return_exceptions=True)
        batcher.close()
        return results

    results = asyncio.run(main())
    assert all(isinstance(result, ValueError) for result in results)


def test_the_batcher_keeps_serving_after_a_failure() -> None:
    calls = {"n": 0}

    def flaky(records: list[dict[str, Any]]) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ValueError("first call fails")
        return np.ones(len(records))

    async def main() -> np.ndarray:
        batcher = MicroBatcher(flaky)
        with pytest.raises(ValueError, match="first call"):
            await batcher.score([{"x": 1}])
        result = await batcher.score([{"x": 1}])
        batcher.close()
        return result

    assert asyncio.run(main()).tolist() == [1.0]


def test_scoring_runs_with_one_thread_in_every_native_pool() -> None:
    """OpenMP's thread count is per thread: the scoring thread must hold its own pools to one.

    Left at the default, a tree model's OpenMP workers spin on the core the event loop needs.
    """
    import sklearn.ensemble  # noqa: F401 - loads the OpenMP runtime the tree models use
    from threadpoolctl import threadpool_info

    seen: list[dict[str, Any]] = []

    def inspect(records: list[dict[str, Any]]) -> np.ndarray:
        seen.extend(threadpool_info())
        return np.zeros(len(records))

    async def main() -> None:
        batcher = MicroBatcher(inspect)
        await batcher.score([{"x": 1}])
        batcher.close()

    asyncio.run(main())
    assert seen, "no native thread pool is loaded"
    assert {pool["internal_api"]: pool["num_threads"] for pool in seen} == {pool["internal_api"]: 1 for pool in seen}
