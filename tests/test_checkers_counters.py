"""Counter ranges: hand-made anomalies next to valid twins, and model-made properties."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from distlab.checkers import counters

MS = 1_000_000


def h(*ops: tuple[Any, ...]) -> list[dict[str, Any]]:
    """(process, type, f, value[, final]) tuples, in order, 1 ms apart."""
    out = []
    for i, (p, t, f, v, *final) in enumerate(ops):
        rec = {"index": i, "time": i * MS, "process": p, "type": t, "f": f, "value": v}
        if final:
            rec["final"] = True
        out.append(rec)
    return out


def add(p: Any, d: int, outcome: str = "ok") -> list[tuple[Any, ...]]:
    return [(p, "invoke", "add", d), (p, outcome, "add", d if outcome != "ok" else None)]


def read(p: Any, v: Any, final: bool = False) -> list[tuple[Any, ...]]:
    extra = (True,) if final else ()
    return [(p, "invoke", "read", None, *extra), (p, "ok", "read", v, *extra)]


def test_final_read_of_the_sum_is_valid_and_off_by_one_is_not() -> None:
    ops = [*add(0, 2), *add(1, 3), *add(0, 1, "fail")]
    r = counters.check_g_counter(h(*ops, *read(2, 5, True), *read(3, 5, True)))
    assert r["valid"] is True and r["final"]["acceptable"] == [[5, 5]]
    assert (r["ok_add_count"], r["failed_add_count"], r["reads"]) == (2, 1, 2)
    r = counters.check_g_counter(h(*ops, *read(2, 5, True), *read(3, 6, True)))
    assert r["valid"] is False
    assert r["errors"] == [{"kind": "final", "index": 9, "process": 3, "value": 6,
                            "allowed": [[5, 5]]}]


def test_indeterminate_adds_widen_the_final_range_as_subset_sums() -> None:
    ops = [*add(0, 10), *add(1, 5, "info"), *add(2, -5, "info")]
    for v, ok in ((10, True), (15, True), (5, True), (11, False), (20, False), (0, False)):
        r = counters.check_pn_counter(h(*ops, *read(3, v, True)))
        assert r["valid"] is ok, (v, r)
        assert r["final"]["acceptable"] == [[5, 5], [10, 10], [15, 15]]
        assert r["final"]["exact"] is True


def test_subset_sums_merge_and_fall_back_to_the_hull() -> None:
    assert counters.subset_sums(0, [1, 1, 1]) == ([[0, 3]], True)
    assert counters.subset_sums(0, [2, 4]) == ([[0, 0], [2, 2], [4, 4], [6, 6]], True)
    assert counters.subset_sums(0, [-3, 10]) == ([[-3, -3], [0, 0], [7, 7], [10, 10]], True)
    assert counters.subset_sums(1, [10, 100, 1000], max_ranges=3) == ([[1, 1111]], False)


def test_unmarked_history_takes_reads_after_the_last_add_as_final() -> None:
    good = h(*add(0, 1), *read(1, 0), *add(0, 1), *read(1, 2))
    r = counters.check(good)
    assert r["valid"] is True and r["final"]["marked"] is False and r["final"]["reads"] == 1
    bad = h(*add(0, 1), *read(1, 0), *add(0, 1), *read(1, 1))
    r = counters.check(bad)
    assert r["valid"] is False and r["errors"][0]["kind"] == "final"


def test_no_final_read_is_unknown() -> None:
    hist = h(*add(0, 1), (1, "invoke", "read", None, True), (1, "fail", "read", None, True))
    assert counters.check(hist)["valid"] == "unknown"


def test_reading_an_add_before_it_was_issued_is_impossible() -> None:
    # Read 3 completes before the add of 3 is invoked: no counter could return it.
    good = h(*read(1, 0), *add(0, 3), *read(1, 3, True))
    bad = h(*read(1, 3), *add(0, 3), *read(1, 3, True))
    assert counters.check(good)["valid"] is True
    r = counters.check(bad)
    assert r["valid"] is False
    assert r["errors"][0] == {"kind": "impossible", "index": 1, "process": 1, "value": 3,
                              "allowed": [0, 0]}


def test_a_read_concurrent_with_an_add_may_see_it() -> None:
    hist = h((0, "invoke", "add", 3), *read(1, 3), (0, "ok", "add", None), *read(1, 3, True))
    assert counters.check(hist, linearizable=True)["valid"] is True


def test_stale_intermediate_read_is_only_an_error_when_linearizable() -> None:
    stale = h(*add(0, 3), *read(1, 0), *read(1, 3, True))
    fresh = h(*add(0, 3), *read(1, 3), *read(1, 3, True))
    assert counters.check(stale)["valid"] is True  # eventual consistency (Maelstrom) allows it
    r = counters.check(stale, linearizable=True)
    assert r["valid"] is False
    assert r["errors"][0]["kind"] == "stale" and r["errors"][0]["allowed"] == [3, 3]
    assert counters.check(fresh, linearizable=True)["valid"] is True


def test_negative_adds_make_the_lower_bound_fall() -> None:
    # A concurrent -4 may or may not be applied; a completed one must be.
    hist = h((0, "invoke", "add", -4), *read(1, -4), *read(1, 0), (0, "ok", "add", None),
             *read(1, -4, True))
    assert counters.check(hist, linearizable=True)["valid"] is True
    hist = h(*add(0, -4), *read(1, 0), *read(1, -4, True))
    r = counters.check(hist, linearizable=True)
    assert r["valid"] is False and r["errors"][0]["allowed"] == [-4, -4]


def test_g_counter_rejects_negative_deltas_and_non_integers_are_unknown() -> None:
    hist = h(*add(0, -1), *read(1, -1, True))
    assert counters.check_pn_counter(hist)["valid"] is True
    r = counters.check_g_counter(hist)
    assert r["valid"] is False and r["errors"][0]["kind"] == "negative-delta"
    assert counters.check(h(*add(0, "x")))["valid"] == "unknown"
    r = counters.check(h(*add(0, 1), *read(1, "1", True)))
    assert r["valid"] is False and r["errors"][0]["kind"] == "malformed"


# --- a reference counter run under random concurrency ---------------------------------


def simulate(seed: int, procs: int, n_ops: int, grow_only: bool) -> list[dict[str, Any]]:
    """Adds apply atomically inside their interval (info ones maybe); reads see the
    counter at that instant; then one final read per process, marked final."""
    rng = random.Random(seed)
    events: list[tuple[int, int, int, dict[str, Any]]] = []
    clock = [rng.randrange(0, 3 * MS) for _ in range(procs)]
    ids = list(range(procs))
    seq = 0
    for _ in range(n_ops):
        slot = rng.randrange(procs)
        start = clock[slot]
        end = start + rng.randrange(1, 5 * MS)
        op: dict[str, Any] = {"process": ids[slot]}
        if rng.random() < 0.5:
            delta = rng.randrange(0, 6) if grow_only else rng.randrange(-5, 6)
            outcome = rng.choices(["ok", "info", "fail"], [8, 1, 1])[0]
            op.update(f="add", value=delta, outcome=outcome,
                      applies=outcome == "ok" or (outcome == "info" and rng.random() < .5))
        else:
            op.update(f="read", value=None, outcome=rng.choices(["ok", "fail"], [9, 1])[0])
        for rank, t in ((0, start), (1, rng.randrange(start, end + 1)), (2, end)):
            events.append((t, rank, seq, op))
            seq += 1
        clock[slot] = end + rng.randrange(0, 2 * MS)
        if op["outcome"] == "info":
            ids[slot] += procs
    t_end = max(clock) + MS
    for slot in range(procs):
        op = {"process": ids[slot], "f": "read", "value": None, "outcome": "ok", "final": True}
        for rank in range(3):
            events.append((t_end + slot * 3 * MS + rank * MS, rank, seq, op))
            seq += 1
    total = 0
    history: list[dict[str, Any]] = []
    for t, rank, _, op in sorted(events, key=lambda e: e[:3]):
        if rank == 1:
            if op["f"] == "read":
                op["seen"] = total
            elif op["applies"]:
                total += op["value"]
            continue
        rec = {"index": len(history), "time": t, "process": op["process"], "f": op["f"],
               "type": "invoke" if rank == 0 else op["outcome"], "value": op["value"]}
        if rank == 2 and op["f"] == "read" and op["outcome"] == "ok":
            rec["value"] = op["seen"]
        if op.get("final"):
            rec["final"] = True
        history.append(rec)
    return history


runs = st.tuples(st.integers(0, 2**32), st.integers(1, 5), st.integers(1, 60), st.booleans())


@settings(deadline=None, derandomize=True, max_examples=200)
@given(runs)
def test_reference_counter_histories_are_valid(run: tuple[int, int, int, bool]) -> None:
    hist = simulate(*run)
    check = counters.check_g_counter if run[3] else counters.check_pn_counter
    for lin in (False, True):
        r = check(hist, linearizable=lin)
        assert r["valid"] is True, r
    for rec in hist:  # without marks, the final reads are found by position
        rec.pop("final", None)
    assert check(hist, linearizable=True)["valid"] is True


def _adds(hist: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
    inv: dict[Any, dict[str, Any]] = {}
    out = []
    for rec in hist:
        if rec["type"] == "invoke":
            inv[rec["process"]] = rec
        elif rec["f"] == "add":
            out.append((inv[rec["process"]], rec["type"]))
    return out


@settings(deadline=None, derandomize=True, max_examples=200)
@given(runs, st.integers(0, 10**6), st.booleans())
def test_out_of_range_reads_are_caught(run: tuple[int, int, int, bool], pick: int,
                                       up: bool) -> None:
    hist = simulate(*run)
    adds = _adds(hist)
    reads = [rec for rec in hist if rec["f"] == "read" and rec["type"] == "ok"]
    finals = [rec for rec in reads if rec.get("final")]
    definite = sum(a["value"] for a, t in adds if t == "ok")
    maybe = [a["value"] for a, t in adds if t == "info"]
    # A final read just outside everything an indeterminate subset could give.
    rec = finals[pick % len(finals)]
    saved = rec["value"]
    rec["value"] = (definite + sum(d for d in maybe if d > 0) + 1 if up
                    else definite + sum(d for d in maybe if d < 0) - 1)
    r = counters.check(hist)
    assert r["valid"] is False and r["errors"][0]["kind"] == "final"
    rec["value"] = saved
    # Any read beyond every add ever attempted: impossible, whatever the consistency.
    everything = [a["value"] for a, _ in adds]
    rec = reads[pick % len(reads)]
    rec["value"] = (sum(d for d in everything if d > 0) + 1 if up
                    else sum(d for d in everything if d < 0) - 1)
    r = counters.check(hist)
    assert r["valid"] is False and r["errors"][0]["kind"] in ("impossible", "final")


@settings(deadline=None, derandomize=True, max_examples=200)
@given(runs, st.integers(0, 10**6))
def test_missing_a_completed_increment_is_stale(run: tuple[int, int, int, bool],
                                                pick: int) -> None:
    seed, procs, n_ops, _ = run
    hist = simulate(seed, procs, n_ops, True)
    done_before: list[tuple[dict[str, Any], int]] = []
    completed = 0
    invoked: dict[Any, int] = {}
    deltas: dict[Any, int] = {}
    for rec in hist:
        if rec["type"] == "invoke":
            if rec["f"] == "read":
                invoked[rec["process"]] = completed
            else:
                deltas[rec["process"]] = rec["value"]
        elif rec["f"] == "add" and rec["type"] == "ok":
            completed += deltas[rec["process"]]
        elif rec["f"] == "read" and rec["type"] == "ok" and not rec.get("final"):
            if invoked[rec["process"]] > 0:
                done_before.append((rec, invoked[rec["process"]]))
    if not done_before:
        return
    rec, lower = done_before[pick % len(done_before)]
    rec["value"] = lower - 1
    assert counters.check_g_counter(hist)["valid"] is True
    r = counters.check_g_counter(hist, linearizable=True)
    assert r["valid"] is False and r["errors"][0]["kind"] == "stale"
