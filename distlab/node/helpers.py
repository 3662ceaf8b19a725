"""Retry with backoff and request dedup: the two things every networked node rewrites."""

from __future__ import annotations

import asyncio
import random
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterator
from typing import Any, TypeVar

from distlab.protocol import TEMPORARILY_UNAVAILABLE, TIMEOUT, RPCError

T = TypeVar("T")

RETRYABLE_CODES = frozenset({TIMEOUT, TEMPORARILY_UNAVAILABLE})


def backoff_delays(
    base: float, cap: float, tries: int, rng: random.Random
) -> Iterator[float]:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**attempt)].

    Jitter spreads retries of many clients apart, so they do not collide again
    in lockstep after a partition heals.
    """
    for attempt in range(max(0, tries - 1)):
        yield rng.uniform(0, min(cap, base * (2**attempt)))


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, RPCError) and exc.code in RETRYABLE_CODES


async def retry(
    fn: Callable[[], Awaitable[T]],
    *,
    base: float = 0.05,
    cap: float = 1.0,
    tries: int = 5,
    rng: random.Random | None = None,
    retry_on: Callable[[BaseException], bool] = _retryable,
) -> T:
    """Call `fn` until it succeeds, sleeping a jittered backoff between failures.

    By default only timeouts and temporarily-unavailable errors are retried: a
    definite error such as key-does-not-exist would fail again. The last
    exception propagates once `tries` attempts are spent.
    """
    if tries < 1:
        raise ValueError("tries must be at least 1")
    delays = backoff_delays(base, cap, tries, rng or random.Random())
    while True:
        try:
            return await fn()
        except Exception as exc:
            if not retry_on(exc):
                raise
            delay = next(delays, None)
            if delay is None:
                raise
            await asyncio.sleep(delay)


class Dedup:
    """Runs each request key once; duplicates get the first answer.

    A duplicated network message (or a client retry carrying the same msg_id)
    must not apply twice. A duplicate arriving while the first is still running
    waits for it. The oldest keys are forgotten past `capacity`.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._results: OrderedDict[Hashable, asyncio.Future[Any]] = OrderedDict()
        self.hits = 0

    def __contains__(self, key: Hashable) -> bool:
        return key in self._results

    async def run(self, key: Hashable, fn: Callable[[], Awaitable[T]]) -> T:
        known = self._results.get(key)
        if known is not None:
            self.hits += 1
            return await asyncio.shield(known)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._results[key] = fut
        if len(self._results) > self.capacity:
            self._results.popitem(last=False)
        try:
            result = await fn()
        except BaseException as exc:
            # A failure is not cached: a retry of a failed request may succeed.
            self._results.pop(key, None)
            if not fut.done():
                fut.set_exception(exc)
                fut.exception()  # mark retrieved; waiters re-raise it themselves
            raise
        fut.set_result(result)
        return result
