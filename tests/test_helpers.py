"""backoff_delays, retry and Dedup."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from distlab.node.helpers import Dedup, backoff_delays, retry
from distlab.protocol import RPCError

# ----- backoff_delays ------------------------------------------------------------------


@pytest.mark.parametrize("tries", [0, 1, 2, 5, 12])
def test_backoff_count_is_tries_minus_one(tries: int) -> None:
    assert len(list(backoff_delays(0.1, 1.0, tries, random.Random(1)))) == max(0, tries - 1)


def test_backoff_bounded_by_exponential_and_cap() -> None:
    rng = random.Random(7)
    for _ in range(200):
        delays = list(backoff_delays(0.01, 0.05, 10, rng))
        for attempt, d in enumerate(delays):
            assert 0 <= d <= min(0.05, 0.01 * 2**attempt)


def test_backoff_reaches_cap_region() -> None:
    # Full jitter up to the cap: with many samples some late delays exceed half the cap.
    rng = random.Random(3)
    late = [list(backoff_delays(0.01, 0.05, 10, rng))[-1] for _ in range(100)]
    assert max(late) > 0.025
    assert max(late) <= 0.05


def test_backoff_deterministic_with_seeded_random() -> None:
    a = list(backoff_delays(0.05, 1.0, 8, random.Random(42)))
    b = list(backoff_delays(0.05, 1.0, 8, random.Random(42)))
    c = list(backoff_delays(0.05, 1.0, 8, random.Random(43)))
    assert a == b
    assert a != c
    rng = random.Random(42)
    assert a == [rng.uniform(0, min(1.0, 0.05 * 2**i)) for i in range(7)]


# ----- retry ---------------------------------------------------------------------------


class Flaky:
    """Raises the given errors in order, then returns 'done'."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def run_retry(fn: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("base", 0.0001)
    kwargs.setdefault("cap", 0.001)
    kwargs.setdefault("rng", random.Random(0))
    return asyncio.run(retry(fn, **kwargs))


def test_retry_success_first_time() -> None:
    fn = Flaky()
    assert run_retry(fn) == "done"
    assert fn.calls == 1


@pytest.mark.parametrize("code", [0, 11])
def test_retry_retries_timeout_and_unavailable(code: int) -> None:
    fn = Flaky(RPCError(code), RPCError(code), RPCError(code))
    assert run_retry(fn, tries=4) == "done"
    assert fn.calls == 4


def test_retry_gives_up_after_tries_and_reraises_last() -> None:
    errors = [RPCError(0, "first"), RPCError(11, "second"), RPCError(0, "third"), RPCError(0, "x")]
    fn = Flaky(*errors)
    with pytest.raises(RPCError) as info:
        run_retry(fn, tries=3)
    assert info.value is errors[2]
    assert fn.calls == 3


def test_retry_tries_one_means_no_retry() -> None:
    fn = Flaky(RPCError(0))
    with pytest.raises(RPCError):
        run_retry(fn, tries=1)
    assert fn.calls == 1


def test_retry_rejects_zero_tries() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        run_retry(Flaky(), tries=0)


@pytest.mark.parametrize("code", [1, 10, 12, 13, 14, 20, 21, 22, 30, 1000])
def test_retry_does_not_retry_other_rpc_errors(code: int) -> None:
    err = RPCError(code)
    fn = Flaky(err)
    with pytest.raises(RPCError) as info:
        run_retry(fn)
    assert info.value is err
    assert fn.calls == 1


def test_retry_does_not_retry_plain_exceptions() -> None:
    fn = Flaky(KeyError("k"))
    with pytest.raises(KeyError):
        run_retry(fn)
    assert fn.calls == 1


def test_retry_custom_predicate() -> None:
    fn = Flaky(KeyError("a"), KeyError("b"))
    assert run_retry(fn, retry_on=lambda e: isinstance(e, KeyError)) == "done"
    assert fn.calls == 3
    fn = Flaky(RPCError(0))
    with pytest.raises(RPCError):
        run_retry(fn, retry_on=lambda e: isinstance(e, KeyError))
    assert fn.calls == 1


def test_retry_sleeps_the_seeded_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def fake_sleep(delay: float) -> None:
        slept.append(delay)
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    fn = Flaky(RPCError(0), RPCError(0), RPCError(0))
    assert run_retry(fn, base=0.5, cap=1.0, tries=5, rng=random.Random(9)) == "done"
    assert slept == list(backoff_delays(0.5, 1.0, 5, random.Random(9)))[:3]


# ----- Dedup ---------------------------------------------------------------------------


def test_dedup_second_call_returns_first_result_without_rerun() -> None:
    async def main() -> None:
        dedup = Dedup()
        calls = 0

        async def work() -> dict[str, int]:
            nonlocal calls
            calls += 1
            return {"n": calls}

        first = await dedup.run(("c1", 1), work)
        second = await dedup.run(("c1", 1), work)
        assert first == {"n": 1}
        assert second is first
        assert calls == 1
        assert dedup.hits == 1
        assert ("c1", 1) in dedup
        other = await dedup.run(("c2", 1), work)
        assert other == {"n": 2}
        assert calls == 2

    asyncio.run(main())


def test_dedup_concurrent_duplicate_waits_for_first() -> None:
    async def main() -> None:
        dedup = Dedup()
        gate = asyncio.Event()
        calls = 0

        async def work() -> str:
            nonlocal calls
            calls += 1
            await gate.wait()
            return f"result-{calls}"

        t1 = asyncio.ensure_future(dedup.run("k", work))
        await asyncio.sleep(0)
        t2 = asyncio.ensure_future(dedup.run("k", work))
        await asyncio.sleep(0)
        assert not t1.done() and not t2.done()
        gate.set()
        assert await asyncio.gather(t1, t2) == ["result-1", "result-1"]
        assert calls == 1
        assert dedup.hits == 1

    asyncio.run(main())


def test_dedup_failure_is_not_cached() -> None:
    async def main() -> None:
        dedup = Dedup()
        calls = 0

        async def work() -> str:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise RPCError(11, "busy")
            return "ok"

        with pytest.raises(RPCError, match="busy"):
            await dedup.run("k", work)
        assert "k" not in dedup
        assert await dedup.run("k", work) == "ok"
        assert calls == 2
        assert await dedup.run("k", work) == "ok"
        assert calls == 2

    asyncio.run(main())


def test_dedup_concurrent_duplicate_of_failure_sees_the_error() -> None:
    async def main() -> None:
        dedup = Dedup()
        gate = asyncio.Event()

        async def fail() -> str:
            await gate.wait()
            raise ValueError("boom")

        t1 = asyncio.ensure_future(dedup.run("k", fail))
        await asyncio.sleep(0)
        t2 = asyncio.ensure_future(dedup.run("k", fail))
        await asyncio.sleep(0)
        gate.set()
        results = await asyncio.gather(t1, t2, return_exceptions=True)
        assert [type(r) for r in results] == [ValueError, ValueError]
        assert "k" not in dedup

    asyncio.run(main())


def test_dedup_capacity_evicts_oldest() -> None:
    async def main() -> None:
        dedup = Dedup(capacity=2)
        calls: list[str] = []

        def work(key: str) -> Any:
            async def fn() -> str:
                calls.append(key)
                return key

            return fn

        for key in ("a", "b", "c"):
            assert await dedup.run(key, work(key)) == key
        assert "a" not in dedup
        assert "b" in dedup and "c" in dedup
        assert await dedup.run("c", work("c")) == "c"
        assert calls == ["a", "b", "c"]
        assert await dedup.run("a", work("a")) == "a"  # forgotten: runs again
        assert calls == ["a", "b", "c", "a"]
        assert "b" not in dedup

    asyncio.run(main())
