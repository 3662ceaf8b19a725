"""set-full: each anomaly next to a near-identical valid history, and a model-made property."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from distlab.checkers import set_full

MS = 1_000_000


def h(*ops: tuple[Any, ...]) -> list[dict[str, Any]]:
    """(process, type, f, value) tuples, in order, 1 ms apart."""
    return [
        {"index": i, "time": i * MS, "process": p, "type": t, "f": f, "value": v}
        for i, (p, t, f, v) in enumerate(ops)
    ]


def add(p: Any, e: Any, outcome: str = "ok", f: str = "add") -> list[tuple[Any, ...]]:
    return [(p, "invoke", f, e), (p, outcome, f, e)]


def read(p: Any, seen: Any) -> list[tuple[Any, ...]]:
    return [(p, "invoke", "read", None), (p, "ok", "read", seen)]


def test_visible_at_once_is_stable_with_zero_latency() -> None:
    r = set_full.check(h(*add(0, 1), *add(0, 2), *read(1, [1, 2]), *read(1, [2, 1])))
    assert r["valid"] is True
    assert (r["attempt_count"], r["acknowledged_count"], r["stable_count"]) == (2, 2, 2)
    assert r["lost_count"] == r["stale_count"] == r["duplicated_count"] == 0
    assert r["stable_latencies"] == {"0": 0.0, "0.5": 0.0, "0.95": 0.0, "0.99": 0.0, "1": 0.0}


def test_broadcast_f_is_an_add() -> None:
    r = set_full.check(h(*add(0, 7, f="broadcast"), *read(1, [7])))
    assert r["valid"] is True and r["stable_count"] == 1


def test_element_that_disappears_is_lost() -> None:
    good = h(*add(0, 1), *read(1, [1]), *read(1, [1]))
    bad = h(*add(0, 1), *read(1, [1]), *read(1, []))
    assert set_full.check(good)["valid"] is True
    r = set_full.check(bad)
    assert r["valid"] is False
    assert (r["lost_count"], r["lost"], r["stable_count"]) == (1, [1], 0)
    assert r["lost_latencies"]["1"] == 1.0  # known at 1 ms, last seen by a read invoked at 2 ms


def test_acknowledged_but_never_in_the_final_read_is_lost() -> None:
    good = h(*add(0, 1), *add(0, 2), *read(1, [1, 2]))
    bad = h(*add(0, 1), *add(0, 2), *read(1, [2]))
    assert set_full.check(good)["valid"] is True
    r = set_full.check(bad)
    assert r["valid"] is False and r["lost"] == [1]


def test_missed_only_by_a_concurrent_read_is_never_read_not_lost() -> None:
    # The read starts before the add completes, so it may linearize before it.
    hist = h(*add(0, 2), (0, "invoke", "add", 1), (1, "invoke", "read", None),
             (0, "ok", "add", 1), (1, "ok", "read", [2]))
    r = set_full.check(hist)
    assert r["valid"] is True
    assert r["never_read"] == [1] and r["lost_count"] == 0
    # One more read, begun after the add completed, that misses it: now it is lost.
    r = set_full.check(hist + [
        {"index": 6, "time": 6 * MS, "process": 1, "type": "invoke", "f": "read", "value": None},
        {"index": 7, "time": 7 * MS, "process": 1, "type": "ok", "f": "read", "value": [2]}])
    assert r["valid"] is False and r["lost"] == [1]


def test_indeterminate_add_never_seen_is_never_read() -> None:
    r = set_full.check(h(*add(0, 1, "info"), *add(1, 2), *read(2, [2])))
    assert r["valid"] is True
    assert r["never_read"] == [1] and r["acknowledged_count"] == 1 and r["attempt_count"] == 2


def test_late_visibility_is_stale_and_only_invalid_when_linearizable() -> None:
    # add ok at 1 ms; a read invoked at 2 ms misses it; a read at 4 ms sees it.
    stale = h(*add(0, 1), *read(1, []), *read(1, [1]))
    # Same shape, but the read that misses it began before the add completed.
    fine = h((0, "invoke", "add", 1), (1, "invoke", "read", None), (1, "ok", "read", []),
             (0, "ok", "add", 1), *read(1, [1]))
    r = set_full.check(stale)
    assert r["valid"] is True and r["stale_count"] == 1 and r["stale"] == [1]
    assert r["worst_stale"] == [{"element": 1, "stable_latency_ms": 1.0, "add_index": 0,
                                 "known_index": 1, "first_seen_index": 5,
                                 "last_absent_read_index": 2}]
    assert r["stable_latencies"]["1"] == 1.0
    assert set_full.check(stale, linearizable=True)["valid"] is False
    for lin in (False, True):
        r = set_full.check(fine, linearizable=lin)
        assert r["valid"] is True and r["stale_count"] == 0


def test_an_element_twice_in_one_read_is_duplicated() -> None:
    assert set_full.check(h(*add(0, 1), *read(1, [1])))["valid"] is True
    r = set_full.check(h(*add(0, 1), *read(1, [1, 1, 1])))
    assert r["valid"] is False
    assert r["duplicated_count"] == 1 and r["duplicated"] == [[1, 3]]


def test_an_element_nobody_added_is_unexpected() -> None:
    assert set_full.check(h(*add(0, 1), *read(1, [1])))["valid"] is True
    r = set_full.check(h(*add(0, 1), *read(1, [1, "1"])))  # "1" is not 1
    assert r["valid"] is False and r["unexpected"] == ["1"]


def test_nothing_stable_is_unknown_and_failures_are_ignored() -> None:
    hist = h(*add(0, 1, "fail"), (1, "invoke", "read", None), (1, "fail", "read", None),
             ("nemesis", "invoke", "start-partition", None), ("nemesis", "info", "start-partition", {}))
    r = set_full.check(hist)
    assert r["valid"] == "unknown" and r["never_read"] == [1]


def test_quantiles_follow_jepsen() -> None:
    assert set_full.quantiles([3.0, 1.0, 2.0, 4.0]) == {
        "0": 1.0, "0.5": 3.0, "0.95": 4.0, "0.99": 4.0, "1": 4.0}


# --- a reference set run under random concurrency -------------------------------------


def simulate(seed: int, procs: int, n_ops: int) -> list[dict[str, Any]]:
    """Ops take effect atomically at a random instant inside their interval; reads see
    the set as of that instant. Ends with a read per process after everything is done."""
    rng = random.Random(seed)
    events: list[tuple[int, int, int, dict[str, Any]]] = []  # (time, rank, seq, op)
    state: set[int] = set()
    next_el = 0
    clock = [rng.randrange(0, 3 * MS) for _ in range(procs)]
    ids = list(range(procs))
    seq = 0
    for _ in range(n_ops):
        slot = rng.randrange(procs)
        start = clock[slot]
        end = start + rng.randrange(1, 5 * MS)
        op: dict[str, Any] = {"process": ids[slot]}
        if rng.random() < 0.5:
            op.update(f=rng.choice(["add", "broadcast"]), value=next_el)
            next_el += 1
            op["outcome"] = rng.choices(["ok", "info", "fail"], [8, 1, 1])[0]
            op["applies"] = op["outcome"] == "ok" or (op["outcome"] == "info" and rng.random() < .5)
        else:
            op.update(f="read", value=None, outcome=rng.choices(["ok", "fail"], [9, 1])[0])
        for rank, t in ((0, start), (1, rng.randrange(start, end + 1)), (2, end)):
            events.append((t, rank, seq, op))
            seq += 1
        clock[slot] = end + rng.randrange(0, 2 * MS)
        if op["outcome"] == "info":
            ids[slot] += procs  # the client is replaced, as in Jepsen
    t_end = max(clock) + MS
    for slot in range(procs):
        op = {"process": ids[slot], "f": "read", "value": None, "outcome": "ok"}
        for rank in range(3):
            events.append((t_end + slot * 3 * MS + rank * MS, rank, seq, op))
            seq += 1
    history: list[dict[str, Any]] = []
    for t, rank, _, op in sorted(events, key=lambda e: e[:3]):
        if rank == 1:  # the effect
            if op["f"] == "read":
                op["seen"] = sorted(state, key=lambda _: rng.random())  # any order
            elif op["applies"]:
                state.add(op["value"])
            continue
        rec = {"index": len(history), "time": t, "process": op["process"], "f": op["f"],
               "type": "invoke" if rank == 0 else op["outcome"], "value": op["value"]}
        if rank == 2 and op["f"] == "read" and op["outcome"] == "ok":
            rec["value"] = op["seen"]
        history.append(rec)
    return history


runs = st.tuples(st.integers(0, 2**32), st.integers(1, 5), st.integers(1, 60))


@settings(deadline=None, derandomize=True, max_examples=150)
@given(runs)
def test_reference_set_histories_are_valid_and_linearizable(run: tuple[int, int, int]) -> None:
    hist = simulate(*run)
    r = set_full.check(hist, linearizable=True)
    assert r["lost_count"] == r["stale_count"] == r["duplicated_count"] == 0, r
    assert r["unexpected_count"] == 0
    assert r["valid"] is True or (r["valid"] == "unknown" and r["stable_count"] == 0)
    acked = {rec["value"] for rec in hist if rec["f"] != "read" and rec["type"] == "ok"}
    assert r["stable_count"] >= len(acked)


def _ok_reads(hist: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [rec for rec in hist if rec["f"] == "read" and rec["type"] == "ok"]


@settings(deadline=None, derandomize=True, max_examples=150)
@given(runs, st.integers(0, 10**6))
def test_single_mutations_are_caught(run: tuple[int, int, int], pick: int) -> None:
    hist = simulate(*run)
    acked = [rec["value"] for rec in hist if rec["f"] != "read" and rec["type"] == "ok"]
    reads = _ok_reads(hist)
    if acked:  # drop an acknowledged element from every read: lost
        e = acked[pick % len(acked)]
        for rec in reads:
            rec["value"] = [x for x in rec["value"] if x != e]
        r = set_full.check(hist)
        assert r["valid"] is False and e in r["lost"]
        hist = simulate(*run)
        reads = _ok_reads(hist)
    full = [rec for rec in reads if rec["value"]]
    if full:  # repeat an element inside one read: duplicated
        rec = full[pick % len(full)]
        rec["value"] = rec["value"] + [rec["value"][pick % len(rec["value"])]]
        assert set_full.check(hist)["valid"] is False
        rec["value"] = rec["value"][:-1]
    # a value nobody added: unexpected
    reads[pick % len(reads)]["value"] = reads[pick % len(reads)]["value"] + ["ghost"]
    r = set_full.check(hist)
    assert r["valid"] is False and r["unexpected"] == ["ghost"]


@settings(deadline=None, derandomize=True, max_examples=150)
@given(runs, st.integers(0, 10**6))
def test_hiding_a_known_element_from_a_later_read_is_stale(run: tuple[int, int, int],
                                                           pick: int) -> None:
    hist = simulate(*run)
    ok_at = {rec["value"]: rec["index"] for rec in hist
             if rec["f"] != "read" and rec["type"] == "ok"}
    invoked: dict[Any, int] = {}
    candidates = []
    for rec in hist:
        if rec["f"] != "read":
            continue
        if rec["type"] == "invoke":
            invoked[rec["process"]] = rec["index"]
        elif rec["type"] == "ok" and rec["index"] < len(hist) - 2 * run[1]:  # not final
            candidates += [(rec, e) for e in rec["value"]
                           if e in ok_at and ok_at[e] < invoked[rec["process"]]]
    if not candidates:
        return
    rec, e = candidates[pick % len(candidates)]
    rec["value"] = [x for x in rec["value"] if x != e]
    assert set_full.check(hist)["valid"] is True  # eventual consistency allows it
    r = set_full.check(hist, linearizable=True)
    assert r["valid"] is False and e in r["stale"]
