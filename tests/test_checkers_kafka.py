"""Kafka checker: each anomaly next to a valid twin, and a reference log under concurrency."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from distlab.checkers import kafka

MS = 1_000_000


def h(*ops: tuple[Any, ...]) -> list[dict[str, Any]]:
    """(process, type, f, value) tuples, in order, 1 ms apart."""
    return [
        {"index": i, "time": i * MS, "process": p, "type": t, "f": f, "value": v}
        for i, (p, t, f, v) in enumerate(ops)
    ]


def send(p: Any, k: str, msg: Any, offset: int | None, outcome: str = "ok") -> list[tuple]:
    done = [["send", k, [offset, msg]]] if outcome == "ok" else [["send", k, msg]]
    return [(p, "invoke", "send", [["send", k, msg]]), (p, outcome, "send", done)]


def poll(p: Any, msgs: dict[str, list[list[Any]]]) -> list[tuple]:
    return [(p, "invoke", "poll", [["poll"]]), (p, "ok", "poll", [["poll", msgs]])]


def bad_types(r: dict[str, Any]) -> list[str]:
    return r["bad_error_types"]


BASE = [*send(0, "a", 10, 0), *send(0, "a", 11, 1), *send(1, "a", 12, 2)]


def test_every_message_polled_in_order_is_valid() -> None:
    r = kafka.check(h(*BASE, *poll(2, {"a": [[0, 10], [1, 11]]}), *poll(2, {"a": [[2, 12]]})))
    assert r["valid"] is True and r["error_types"] == []
    assert (r["ok_send_count"], r["ok_poll_count"], r["unseen_count"]) == (3, 2, 0)


def test_lost_write_is_a_gap_below_what_was_read() -> None:
    r = kafka.check(h(*BASE, *poll(2, {"a": [[0, 10], [2, 12]]})))
    assert r["valid"] is False
    assert r["lost_write"] == [{"key": "a", "msg": 11, "offset": 1, "index": 3,
                                "max_read_offset": 2, "max_read_index": 7}]
    assert "int_poll_skip" in r["error_types"]


def test_unseen_when_nobody_polled_that_far() -> None:
    good = h(*BASE, *poll(2, {"a": [[0, 10], [1, 11], [2, 12]]}))
    bad = h(*BASE, *poll(2, {"a": [[0, 10], [1, 11]]}))
    assert kafka.check(good)["valid"] is True
    r = kafka.check(bad)
    assert bad_types(r) == ["unseen"] and r["lost_write_count"] == 0
    assert r["unseen_by_key"] == {"a": 1} and r["unseen"][0]["msg"] == 12


def test_poll_skip_between_a_clients_polls() -> None:
    good = h(*BASE, *poll(2, {"a": [[0, 10]]}), *poll(2, {"a": [[1, 11], [2, 12]]}),
             *poll(3, {"a": [[1, 11]]}))
    bad = h(*BASE, *poll(2, {"a": [[0, 10]]}), *poll(2, {"a": [[2, 12]]}),
            *poll(3, {"a": [[1, 11]]}))
    assert kafka.check(good)["valid"] is True
    r = kafka.check(bad)
    assert bad_types(r) == ["poll_skip"]
    assert r["poll_skip"] == [{"key": "a", "offsets": [0, 2], "indices": [7, 9], "process": 2,
                               "skipped": [1]}]


def test_poll_skip_within_one_poll() -> None:
    bad = h(*BASE, *poll(2, {"a": [[0, 10], [2, 12]]}), *poll(3, {"a": [[1, 11]]}))
    r = kafka.check(bad)
    assert bad_types(r) == ["int_poll_skip"] and r["int_poll_skip"][0]["skipped"] == [1]


def test_sparse_offsets_are_not_skips() -> None:
    hist = h(*send(0, "a", 10, 0), *send(0, "a", 11, 5), *poll(2, {"a": [[0, 10], [5, 11]]}))
    assert kafka.check(hist)["valid"] is True


def test_nonmonotonic_polls_within_and_between_ops() -> None:
    between = h(*BASE, *poll(2, {"a": [[0, 10], [1, 11]]}), *poll(2, {"a": [[1, 11], [2, 12]]}))
    within = h(*BASE, *poll(2, {"a": [[1, 11], [0, 10], [2, 12]]}))
    r = kafka.check(between)
    assert bad_types(r) == ["nonmonotonic_poll"] and r["nonmonotonic_poll"][0]["offsets"] == [1, 1]
    r = kafka.check(within)
    assert "int_nonmonotonic_poll" in bad_types(r)
    # A new client (after a crash) or a re-assign may start over: not an error.
    fresh = h(*BASE, *poll(2, {"a": [[0, 10], [1, 11]]}), *poll(5, {"a": [[0, 10], [1, 11]]}),
              *poll(5, {"a": [[2, 12]]}))
    assert kafka.check(fresh)["valid"] is True
    reassigned = h(*BASE, *poll(2, {"a": [[0, 10], [1, 11]]}), (2, "invoke", "assign", ["b"]),
                   (2, "ok", "assign", ["b"]), *poll(2, {"a": [[0, 10], [1, 11], [2, 12]]}))
    assert kafka.check(reassigned)["valid"] is True


def test_subscribe_allows_external_poll_anomalies() -> None:
    hist = h(*BASE, (2, "invoke", "subscribe", ["a"]), (2, "ok", "subscribe", ["a"]),
             *poll(2, {"a": [[0, 10], [1, 11]]}), *poll(2, {"a": [[1, 11], [2, 12]]}))
    r = kafka.check(hist)
    assert r["valid"] is True and r["error_types"] == ["nonmonotonic_poll"]


def test_nonmonotonic_sends_within_and_between_ops() -> None:
    good = h(*send(0, "a", 10, 0), *send(0, "a", 11, 1), *poll(1, {"a": [[0, 10], [1, 11]]}))
    assert kafka.check(good)["valid"] is True
    between = h(*send(0, "a", 11, 1), *send(0, "a", 10, 0), *poll(1, {"a": [[0, 10], [1, 11]]}))
    r = kafka.check(between)
    assert bad_types(r) == ["nonmonotonic_send"]
    assert r["nonmonotonic_send"][0] == {"key": "a", "offsets": [1, 0], "indices": [1, 3],
                                         "process": 0}
    within = h((0, "invoke", "txn", [["send", "a", 10], ["send", "a", 11]]),
               (0, "ok", "txn", [["send", "a", [1, 10]], ["send", "a", [0, 11]]]),
               *poll(1, {"a": [[0, 11], [1, 10]]}))
    assert bad_types(kafka.check(within)) == ["int_nonmonotonic_send"]


def test_inconsistent_offsets_and_duplicates() -> None:
    good = h(*send(0, "a", 10, 0), *send(1, "a", 11, 1), *poll(2, {"a": [[0, 10], [1, 11]]}))
    assert kafka.check(good)["valid"] is True
    two_at_one = h(*send(0, "a", 10, 0), *send(1, "a", 11, 0), *poll(2, {"a": [[0, 10]]}))
    r = kafka.check(two_at_one)
    assert "inconsistent_offsets" in bad_types(r)
    assert r["inconsistent_offsets"][0] == {"key": "a", "offset": 0, "msgs": [10, 11]}
    one_at_two = h(*send(0, "a", 10, 0), *poll(2, {"a": [[0, 10], [1, 10]]}))
    r = kafka.check(one_at_two)
    assert bad_types(r) == ["duplicate"]
    assert r["duplicate"] == [{"key": "a", "msg": 10, "offsets": [0, 1]}]


def test_reads_of_failed_or_unknown_sends() -> None:
    info = h(*send(0, "a", 10, None, "info"), *poll(2, {"a": [[0, 10]]}))
    assert kafka.check(info)["valid"] == "unknown"  # no ok send, nothing wrong either
    failed = h(*send(0, "a", 10, None, "fail"), *send(1, "a", 11, 1),
               *poll(2, {"a": [[0, 10], [1, 11]]}))
    assert bad_types(kafka.check(failed)) == ["aborted_read"]
    ghost = h(*send(1, "a", 11, 1), *poll(2, {"a": [[0, 99], [1, 11]]}))
    assert bad_types(kafka.check(ghost)) == ["unexpected"]


def test_keys_and_tags_from_edn_are_normalised() -> None:
    hist = h((0, "invoke", ":send", [[":send", 1, 10]]), (0, "ok", ":send", [[":send", 1, [0, 10]]]),
             *poll(2, {"1": [[0, 10]]}))
    assert kafka.check(hist)["valid"] is True


# --- a reference log run under random concurrency ----------------------------------------


def simulate(seed: int, procs: int, n_ops: int) -> list[dict[str, Any]]:
    """Sends append atomically inside their interval (info ones maybe) at sparse, growing
    offsets; a poll returns up to a few messages per key from the client's position and
    advances it. Finally every client and a fresh one poll until caught up."""
    rng = random.Random(seed)
    keys = ["k0", "k1", "k2"][: rng.randrange(1, 4)]
    logs: dict[str, list[tuple[int, int]]] = {k: [] for k in keys}
    nxt = dict.fromkeys(keys, 0)
    pos: dict[Any, dict[str, int]] = {}
    events: list[tuple[int, int, int, dict[str, Any]]] = []
    clock = [rng.randrange(0, 3 * MS) for _ in range(procs)]
    ids = list(range(procs))
    seq = msg = 0
    for _ in range(n_ops):
        slot = rng.randrange(procs)
        start = clock[slot]
        end = start + rng.randrange(1, 5 * MS)
        op: dict[str, Any] = {"process": ids[slot], "limit": rng.randrange(1, 4)}
        if rng.random() < 0.5:
            outcome = rng.choices(["ok", "info", "fail"], [8, 1, 1])[0]
            op.update(f="send", key=rng.choice(keys), msg=msg, outcome=outcome,
                      applies=outcome == "ok" or (outcome == "info" and rng.random() < .5))
            msg += 1
        else:
            op.update(f="poll", outcome="ok")
        for rank, t in ((0, start), (1, rng.randrange(start, end + 1)), (2, end)):
            events.append((t, rank, seq, op))
            seq += 1
        clock[slot] = end + rng.randrange(0, 2 * MS)
        if op["outcome"] == "info":
            ids[slot] += procs
    t = max(clock) + MS
    for p in [*ids, "fresh"]:
        for _ in range(n_ops + 1):  # enough polls to catch up on everything
            op = {"process": p, "f": "poll", "outcome": "ok", "limit": 4}
            for rank in range(3):
                events.append((t, rank, seq, op))
                seq += 1
                t += MS
    history: list[dict[str, Any]] = []
    for t, rank, _, op in sorted(events, key=lambda e: e[:3]):
        if rank == 1:
            if op["f"] == "send" and op["applies"]:
                k = op["key"]
                op["offset"] = nxt[k]
                logs[k].append((nxt[k], op["msg"]))
                nxt[k] += rng.choice([1, 1, 2])
            elif op["f"] == "poll":
                at = pos.setdefault(op["process"], dict.fromkeys(keys, 0))
                got = {}
                for k in keys:
                    pairs = [[o, m] for o, m in logs[k] if o >= at[k]][: op["limit"]]
                    if pairs:
                        got[k] = pairs
                        at[k] = pairs[-1][0] + 1
                op["got"] = got
            continue
        if op["f"] == "send":
            if rank == 2 and op["outcome"] == "ok":
                value = [["send", op["key"], [op["offset"], op["msg"]]]]
            else:
                value = [["send", op["key"], op["msg"]]]
        else:
            value = [["poll", op["got"]]] if rank == 2 else [["poll"]]
        history.append({"index": len(history), "time": t, "process": op["process"],
                        "f": op["f"], "type": "invoke" if rank == 0 else op["outcome"],
                        "value": value})
    return history


runs = st.tuples(st.integers(0, 2**32), st.integers(1, 4), st.integers(1, 40))


@settings(deadline=None, derandomize=True, max_examples=100)
@given(runs)
def test_reference_log_histories_are_valid(run: tuple[int, int, int]) -> None:
    r = kafka.check(simulate(*run))
    assert r["error_types"] == [], r
    assert r["valid"] is True or (r["valid"] == "unknown" and r["ok_send_count"] == 0)


def _polls(hist: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
    return [(rec, k) for rec in hist if rec["f"] == "poll" and rec["type"] == "ok"
            for k in rec["value"][0][1]]


@settings(deadline=None, derandomize=True, max_examples=100)
@given(runs, st.integers(0, 10**6))
def test_single_mutations_are_caught(run: tuple[int, int, int], pick: int) -> None:
    hist = simulate(*run)
    sends = [rec["value"][0] for rec in hist if rec["f"] == "send" and rec["type"] == "ok"]
    if not sends:
        return
    _, k, (o, m) = sends[pick % len(sends)]
    for rec, key in _polls(hist):  # lose one acknowledged message everywhere
        if key == k:
            rec["value"][0][1][k] = [p for p in rec["value"][0][1][k] if p != [o, m]]
    assert kafka.check(hist)["valid"] is False

    hist = simulate(*run)
    long = [(rec, k) for rec, k in _polls(hist) if len(rec["value"][0][1][k]) >= 2]
    if long:
        rec, k = long[pick % len(long)]
        pairs = rec["value"][0][1][k]
        pairs[0], pairs[1] = pairs[1], pairs[0]  # out of order inside one poll
        assert "int_nonmonotonic_poll" in kafka.check(hist)["bad_error_types"]
        pairs[0], pairs[1] = pairs[1], pairs[0]
        dropped = pairs.pop(1) if len(pairs) >= 3 else None  # a hole inside one poll
        if dropped is not None:
            assert "int_poll_skip" in kafka.check(hist)["bad_error_types"]
            pairs.insert(1, dropped)
        pairs[0] = [pairs[0][0], "other"]  # another message at a known offset
        r = kafka.check(hist)
        assert "inconsistent_offsets" in r["bad_error_types"]

    hist = simulate(*run)
    ok_sends = [rec for rec in hist if rec["f"] == "send" and rec["type"] == "ok"]
    if len(ok_sends) >= 2:  # a send acknowledged at another message's offset
        a = ok_sends[pick % len(ok_sends)]
        same_key = [s for s in ok_sends if s["value"][0][1] == a["value"][0][1] and s is not a]
        if same_key:
            b = same_key[pick % len(same_key)]
            a["value"][0][2][0] = b["value"][0][2][0]
            assert "inconsistent_offsets" in kafka.check(hist)["bad_error_types"]
