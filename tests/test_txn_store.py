"""Histories from a seeded in-memory store that runs transactions one at a time.

Each transaction takes effect atomically at its completion, so the history is
strict serializable however its operations overlap: the checker must find
nothing. Some transactions fail (never applied) and some are indeterminate
(applied or not, completion unknown). Then single mutations must be caught.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from distlab.checkers.txn import check


def store_history(seed: int, workload: str, n: int = 60, procs: int = 5,
                  keys: int = 4) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    state: dict[int, Any] = {}
    counter: dict[int, int] = {}
    running: dict[int, list[list[Any]]] = {}
    next_proc = list(range(procs))
    h: list[dict[str, Any]] = []
    started = 0

    def emit(p: int, type_: str, value: list[list[Any]]) -> None:
        h.append({"index": len(h), "time": len(h) * 1000, "process": p, "type": type_,
                  "f": "txn", "value": value})

    while started < n or running:
        slot = rng.randrange(procs)
        p = next_proc[slot]
        if p not in running:
            if started >= n:
                continue
            txn = []
            for _ in range(rng.randint(1, 4)):
                k = rng.randrange(keys)
                if rng.random() < 0.5:
                    txn.append(["r", k, None])
                else:
                    counter[k] = counter.get(k, 0) + 1
                    txn.append(["append" if workload == "list-append" else "w", k, counter[k]])
            running[p] = txn
            started += 1
            emit(p, "invoke", txn)
            continue
        txn = running.pop(p)
        fate = rng.random()
        if fate < 0.15:  # failed, or indeterminate and never applied
            emit(p, "fail" if fate < 0.1 else "info", txn)
            if fate >= 0.1:
                next_proc[slot] += procs  # an indeterminate client gets a fresh process
            continue
        done = []
        for f, k, v in txn:
            if f == "r":
                cur = state.get(k)
                if workload == "list-append":
                    cur = None if cur is None and rng.random() < 0.5 else list(cur or [])
                done.append([f, k, cur])
            else:
                state[k] = [*state.get(k, []), v] if f == "append" else v
                done.append([f, k, v])
        if fate < 0.2:
            emit(p, "info", txn)  # applied, but the client never heard back
            next_proc[slot] += procs
        else:
            emit(p, "ok", done)
    return h


def assert_explained(res: dict[str, Any]) -> None:
    """Every edge of every reported cycle has a reason drawn from the history."""
    cycles = [c for cases in res["anomalies"].values() for c in cases if "steps" in c]
    assert cycles
    for c in cycles:
        for step in c["steps"]:
            assert " precedes " not in step["text"], step


seeds = st.integers(min_value=0, max_value=10**9)


@settings(deadline=None, derandomize=True, max_examples=60)
@given(seeds)
def test_list_append_store_histories_are_strict_serializable(seed: int) -> None:
    h = store_history(seed, "list-append")
    res = check(h, "list-append", ["strict-serializable"])
    assert res["valid"] is True, res["anomalies"]


@settings(deadline=None, derandomize=True, max_examples=60)
@given(seeds)
def test_rw_register_store_histories_are_strict_serializable(seed: int) -> None:
    h = store_history(seed, "rw-register")
    res = check(h, "rw-register", ["strict-serializable"])
    assert res["valid"] is True, res["anomalies"]


@settings(deadline=None, derandomize=True, max_examples=40)
@given(seeds)
def test_a_stale_read_after_a_completed_append_is_caught(seed: int) -> None:
    h = store_history(seed, "list-append", n=80)
    done_at: dict[tuple[Any, Any], int] = {}
    invoked: dict[Any, int] = {}
    for pos, rec in enumerate(h):
        if rec["type"] == "invoke":
            invoked[rec["process"]] = pos
            continue
        if rec["type"] != "ok":
            continue
        mops = rec["value"]
        own = {k for f, k, _ in mops if f == "append"}
        for f, k, v in mops:
            if f == "append":
                done_at[(k, v)] = pos
        for mop in mops:
            f, k, v = mop
            if not (f == "r" and v and k not in own):
                continue
            if done_at.get((k, v[-1]), pos) < invoked[rec["process"]]:
                mop[2] = v[:-1]
                res = check(h, "list-append", ["strict-serializable"])
                assert res["valid"] is False
                assert "strong-snapshot-isolation" in res["not"] + res["also_not"]
                assert_explained(res)
                return
    raise AssertionError("no read in this history could be made stale")


@settings(deadline=None, derandomize=True, max_examples=40)
@given(seeds)
def test_a_register_read_of_nil_after_a_completed_write_is_caught(seed: int) -> None:
    """Registers give no order between blind writes, but the initial state precedes all."""
    h = store_history(seed, "rw-register", n=80)
    done_at: dict[tuple[Any, Any], int] = {}
    invoked: dict[Any, int] = {}
    for pos, rec in enumerate(h):
        if rec["type"] == "invoke":
            invoked[rec["process"]] = pos
            continue
        if rec["type"] != "ok":
            continue
        mops = rec["value"]
        own = {k for f, k, _ in mops if f == "w"}
        for mop in mops:
            f, k, v = mop
            if f == "r" and k not in own and done_at.get((k, v), pos) < invoked[rec["process"]]:
                mop[2] = None
                res = check(h, "rw-register", ["strict-serializable"])
                assert res["valid"] is False, "stale read not caught"
                assert "strong-snapshot-isolation" in res["not"] + res["also_not"]
                if res["anomaly_types"] != ["internal"]:
                    assert_explained(res)
                return
        for f, k, v in mops:
            if f == "w":
                done_at[(k, v)] = pos
    raise AssertionError("no read in this history could be made stale")


def test_store_histories_do_exercise_info_fail_and_overlap() -> None:
    h = store_history(7, "list-append", n=200)
    types = {r["type"] for r in h}
    assert types == {"invoke", "ok", "fail", "info"}
    res = check(h)
    assert res["valid"] is True
    assert res["stats"]["info"] > 0 and res["stats"]["fail"] > 0
