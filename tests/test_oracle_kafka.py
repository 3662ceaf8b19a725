"""Kafka checker against an oracle written from its documented anomalies, on a few
hundred small seeded histories of a model log, valid and mutated.

The checker indexes offsets with bisect and sweeps clients with running state; the
oracle restates each anomaly as a plain search over all operations (every pair of a
client's consecutive polls, every known offset, every send), so a mistake in the
checker's bookkeeping shows as a disagreement on the set of anomalies found.
"""

from __future__ import annotations

import random
from typing import Any

from distlab.checkers import kafka

MS = 1_000_000
KEYS = ("a", "b")
OPS = ("send", "poll", "txn")


def _parse(value: Any) -> tuple[list[tuple[str, int | None, Any]], dict[str, list[tuple[int, Any]]]]:
    """Sends (key, offset or None, msg) and polls key -> [(offset, msg)] of an op's value."""
    sends: list[tuple[str, int | None, Any]] = []
    polls: dict[str, list[tuple[int, Any]]] = {}
    for mop in value if isinstance(value, list) else []:
        if mop[0] == "send":
            if isinstance(mop[2], list):
                sends.append((mop[1], mop[2][0], mop[2][1]))
            else:
                sends.append((mop[1], None, mop[2]))
        elif mop[0] == "poll" and len(mop) > 1:
            for k, pairs in mop[1].items():
                polls.setdefault(k, []).extend((o, m) for o, m in pairs)
    return sends, polls


def _pair(history: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Invocation index -> its completion."""
    out: dict[int, dict[str, Any]] = {}
    open_: dict[Any, int] = {}
    for rec in history:
        if rec["process"] == "nemesis":
            continue
        if rec["type"] == "invoke":
            open_[rec["process"]] = rec["index"]
        elif rec["process"] in open_:
            out[open_.pop(rec["process"])] = rec
    return out


def oracle(history: list[dict[str, Any]], stats: bool = False) -> tuple[Any, set[str]]:
    """(valid, the names of the anomalies found)."""
    done_of = _pair(history)
    found: set[str] = set()
    comps = [r for r in history if r["process"] != "nemesis" and r["type"] != "invoke"]
    ops = [(r, *_parse(r["value"])) for r in comps if r["f"] in OPS]
    ok_ops = [op for op in ops if op[0]["type"] == "ok"]

    # the log: every (key, offset, msg) an ok send or any poll shows
    facts = {(k, o, m) for r, sends, _ in ok_ops for k, o, m in sends if o is not None}
    facts |= {(k, o, m) for _, _, polls in ops for k, pairs in polls.items() for o, m in pairs}
    if any(k == k2 and o == o2 and m != m2 for k, o, m in facts for k2, o2, m2 in facts):
        found.add("inconsistent_offsets")
    if any(k == k2 and m == m2 and o != o2 for k, o, m in facts for k2, o2, m2 in facts):
        found.add("duplicate")
    offsets = {k: {o for k2, o, _ in facts if k2 == k} for k in {f[0] for f in facts}}

    def hole(k: str, lo: int, hi: int) -> bool:
        return any(lo < o < hi for o in offsets.get(k, ()))

    # who sent each message: the status of its send completion (ok wins)
    status: dict[tuple[str, Any], str] = {}
    for r in history:  # a send invoked and never completed may have happened
        if r["type"] == "invoke" and r["f"] in OPS and r["process"] != "nemesis":
            for k, _o, m in _parse(r["value"])[0]:
                status.setdefault((k, m), "invoke")
    for r, sends, _ in ops:
        for k, _o, m in sends:
            if status.get((k, m)) != "ok":
                status[(k, m)] = r["type"]
    polled = {(k, m) for _, _, polls in ok_ops for k, pairs in polls.items() for _, m in pairs}
    for _, sends, _ in ok_ops:
        for k, o, m in sends:
            if (k, m) in polled:
                continue
            found.add("unseen")
            if o is not None and any(k2 == k and o2 >= o for _, _, polls in ok_ops for k2, pairs in polls.items()
                                     for o2, _ in pairs):
                found.add("lost_write")
    for _, _, polls in ok_ops:
        for k, pairs in polls.items():
            for _, m in pairs:
                if (k, m) not in status:
                    found.add("unexpected")
                elif status[(k, m)] == "fail":
                    found.add("aborted_read")

    # per client: its polls and sends, in order, forgetting keys an assign drops
    for p in {r["process"] for r in comps}:
        mine = [r for r in comps if r["process"] == p and r["type"] != "fail"]
        for k in KEYS:
            last_poll: int | None = None
            last_send: int | None = None
            for r in mine:
                if r["f"] in ("assign", "subscribe"):
                    v = r["value"]
                    keys = v.get("keys") if isinstance(v, dict) else v
                    if k not in (keys or []):
                        last_poll = last_send = None
                    continue
                if r["f"] not in OPS:
                    continue
                sends, polls = _parse(r["value"])
                pairs = polls.get(k, [])
                for (o1, _), (o2, _) in zip(pairs, pairs[1:], strict=False):
                    if o2 <= o1:
                        found.add("int_nonmonotonic_poll")
                    elif hole(k, o1, o2):
                        found.add("int_poll_skip")
                if pairs:
                    if last_poll is not None and pairs[0][0] <= last_poll:
                        found.add("nonmonotonic_poll")
                    elif last_poll is not None and hole(k, last_poll, pairs[0][0]):
                        found.add("poll_skip")
                    if r["type"] == "ok":
                        last_poll = pairs[-1][0]
                offs = [o for k2, o, _ in sends if k2 == k and o is not None]
                if any(b <= a for a, b in zip(offs, offs[1:], strict=False)):
                    found.add("int_nonmonotonic_send")
                if offs:
                    if last_send is not None and offs[0] <= last_send:
                        found.add("nonmonotonic_send")
                    last_send = offs[-1]

    # committed offsets told to an assign must not skip known, uncommitted messages
    for r in comps:
        if r["f"] != "assign" or r["type"] != "ok" or not isinstance(r["value"], dict):
            continue
        for k, listed in (r["value"].get("committed") or {}).items():
            commits = [c["value"][k] for c in history
                       if c["f"] == "commit_offsets" and c["type"] == "invoke" and c["index"] < r["index"]
                       and k in c["value"] and done_of.get(c["index"], {}).get("type") != "fail"]
            top = max(commits, default=-1)
            if any(top < o < listed for o in offsets.get(k, ())):
                found.add("committed_ahead")

    if stats:
        for f in {r["f"] for r in comps}:
            if not any(r["f"] == f and r["type"] == "ok" for r in comps):
                found.add("never_ok")
    final_procs = {r["process"]: r["index"] for r in reversed(history) if r["type"] == "invoke" and r.get("final")}
    if any(not any(r["process"] == p and r["type"] == "ok" and r["index"] > i for r in comps)
           for p, i in final_procs.items()):
        found.add("final_poll_failed")

    subscribed = any(r["f"] == "subscribe" and r["type"] == "ok" for r in comps)
    bad = found - {"final_poll_failed"} - ({"poll_skip", "nonmonotonic_poll"} if subscribed else set())
    any_ok_send = any(sends for _, sends, _ in ok_ops)
    valid: Any = False if bad else (True if any_ok_send and "final_poll_failed" not in found else "unknown")
    return valid, found


class Model:
    """A small Kafka: per key a log with sparse offsets; clients with positions."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.log: dict[str, list[tuple[int, int]]] = {k: [] for k in KEYS}
        self.next_offset = {k: 0 for k in KEYS}
        self.committed: dict[str, int] = {}
        self.msg = 0

    def append(self, k: str) -> tuple[int, int]:
        self.msg += 1
        o = self.next_offset[k]
        self.next_offset[k] = o + self.rng.choice((1, 1, 2))
        self.log[k].append((o, self.msg))
        return o, self.msg


def generate(rng: random.Random) -> list[dict[str, Any]]:
    model = Model(rng)
    history: list[dict[str, Any]] = []

    def rec(p: Any, type_: str, f: str, value: Any, **extra: Any) -> dict[str, Any]:
        r = {"index": len(history), "time": len(history) * MS, "process": p, "type": type_, "f": f,
             "value": value, **extra}
        history.append(r)
        return r

    procs = rng.randrange(1, 4)
    pid = list(range(procs))
    assigned: list[list[str]] = [list(KEYS) for _ in range(procs)]
    pos: list[dict[str, int]] = [{k: 0 for k in KEYS} for _ in range(procs)]  # next offset to read
    subscribe = rng.random() < 0.1

    def poll(c: int, final: bool = False) -> None:
        p = pid[c]
        rec(p, "invoke", "poll", [["poll"]], **({"final": True} if final else {}))
        if rng.random() < 0.05:
            rec(p, "info", "poll", [["poll"]])
            pid[c] += procs
            return
        out: dict[str, list[list[int]]] = {}
        for k in assigned[c]:
            pairs = [[o, m] for o, m in model.log[k] if o >= pos[c][k]][: rng.randrange(0, 4)]
            if pairs:
                out[k] = pairs
                pos[c][k] = pairs[-1][0] + 1
        rec(p, "ok", "poll", [["poll", out]])

    for _ in range(rng.randrange(2, 12)):
        c = rng.randrange(procs)
        p = pid[c]
        kind = rng.random()
        if kind < 0.05:  # a client that crashes mid-send: no completion, maybe appended
            k = rng.choice(KEYS)
            model.msg += 1
            rec(p, "invoke", "send", [["send", k, model.msg]])
            if rng.random() < 0.7:
                model.msg -= 1
                model.append(k)
            pid[c] += procs
        elif kind < 0.12:  # two sends to one key in one transaction
            k = rng.choice(KEYS)
            m1, m2 = model.msg + 1, model.msg + 2
            rec(p, "invoke", "txn", [["send", k, m1], ["send", k, m2]])
            model.msg += 2
            o1, o2 = model.append(k)[0], model.append(k)[0]
            model.log[k][-2:] = [(o1, m1), (o2, m2)]
            model.msg = max(model.msg, m2)
            rec(p, "ok", "txn", [["send", k, [o1, m1]], ["send", k, [o2, m2]]])
        elif kind < 0.45:
            k = rng.choice(KEYS)
            msg = model.msg + 1
            rec(p, "invoke", "send", [["send", k, msg]])
            outcome = rng.choices(("ok", "info", "fail"), (8, 1, 1))[0]
            if outcome == "fail":
                model.msg += 1
                rec(p, "fail", "send", [["send", k, msg]])
                continue
            if outcome == "ok" or rng.random() < 0.5:
                o, m = model.append(k)
            else:
                model.msg += 1
                o = None
            if outcome == "ok":
                rec(p, "ok", "send", [["send", k, [o, msg]]])
            else:
                rec(p, "info", "send", [["send", k, msg]])
                pid[c] += procs
        elif kind < 0.75:
            poll(c)
        elif kind < 0.85:
            offsets = {k: pos[c][k] - 1 for k in assigned[c] if pos[c][k] > 0}
            if offsets:
                rec(p, "invoke", "commit_offsets", offsets)
                for k, o in offsets.items():
                    model.committed[k] = max(model.committed.get(k, -1), o)
                rec(p, "ok", "commit_offsets", offsets)
                if not subscribe and rng.random() < 0.6:  # and seeks back to what it committed
                    keys = sorted(offsets)
                    rec(p, "invoke", "assign", keys)
                    committed = {k: model.committed[k] + 1 for k in keys}
                    rec(p, "ok", "assign", {"keys": keys, "committed": committed})
        else:
            keys = sorted(rng.sample(KEYS, rng.randrange(1, 3)))
            f = "subscribe" if subscribe else "assign"
            rec(p, "invoke", f, keys)
            committed = {k: model.committed[k] + 1 for k in keys if k in model.committed}
            assigned[c] = keys
            for k in keys:
                pos[c][k] = committed.get(k, 0)
            rec(p, "ok", f, {"keys": keys, "committed": committed} if f == "assign" else keys)
    for c in range(procs):
        assigned[c] = list(KEYS)
        poll(c, final=True)
    return history


def mutate(rng: random.Random, history: list[dict[str, Any]]) -> None:
    """One plausible bug, in place: a hole, a swap, a duplicate, a changed message, a
    message nobody sent, a send acknowledged at an old offset, or a committed offset
    listed too high."""
    polls = [(r, k) for r in history if r["f"] == "poll" and r["type"] == "ok" for k in r["value"][0][1]]
    sends = [r for r in history if r["f"] == "send" and r["type"] == "ok"]
    assigns = [r for r in history if r["f"] == "assign" and r["type"] == "ok" and r["value"]["committed"]]
    failed = [r["value"][0] for r in history if r["f"] == "send" and r["type"] == "fail"]
    txns = [r for r in history if r["f"] == "txn" and r["type"] == "ok"]
    choice = 6 if assigns and rng.random() < 0.3 else rng.randrange(10)
    if choice == 0 and polls:
        r, k = rng.choice(polls)
        pairs = r["value"][0][1][k]
        pairs.pop(rng.randrange(len(pairs)))
    elif choice == 1 and polls:
        r, k = rng.choice(polls)
        pairs = r["value"][0][1][k]
        if len(pairs) >= 2:
            pairs[0], pairs[1] = pairs[1], pairs[0]
    elif choice == 2 and polls:
        r, k = rng.choice(polls)
        pairs = r["value"][0][1][k]
        pairs.append([pairs[-1][0] + rng.choice((1, 5)), pairs[0][1]])
    elif choice == 3 and polls:
        r, k = rng.choice(polls)
        pairs = r["value"][0][1][k]
        i = rng.randrange(len(pairs))
        pairs[i] = [pairs[i][0], rng.choice((999, pairs[i][1] + 1))]
    elif choice == 4 and polls:
        r, k = rng.choice(polls)
        pairs = r["value"][0][1][k]
        pairs.insert(0, [max(0, pairs[0][0] - 1), 777])
    elif choice == 5 and sends:
        r = rng.choice(sends)
        mop = r["value"][0]
        mop[2] = [max(0, mop[2][0] - rng.choice((1, 2))), mop[2][1]]
    elif choice == 6 and assigns:
        r = rng.choice(assigns)
        committed = r["value"]["committed"]
        k = rng.choice(sorted(committed))
        committed[k] += rng.choice((1, 2, 3))
    elif choice == 7 and polls and failed:  # a failed send's message read anyway
        r, k = rng.choice(polls)
        _, k2, m = rng.choice(failed)
        r["value"][0][1].setdefault(k2, []).append([100, m])
    elif choice == 8 and txns:  # a transaction's two sends acknowledged out of order
        mops = rng.choice(txns)["value"]
        mops[0][2][0], mops[1][2][0] = mops[1][2][0], mops[0][2][0]
    elif choice == 9 and polls:  # a client's poll starts past a message it never read
        r, k = rng.choice(polls)
        r["value"][0][1][k].pop(0)


CASES = 1500


def _compare(check: Any, seed: int = 17) -> dict[Any, int]:
    rng = random.Random(seed)
    verdicts: dict[Any, int] = {}
    for _ in range(CASES):
        hist = generate(rng)
        if rng.random() < 0.6:
            mutate(rng, hist)
        for stats in (False, True):
            valid, found = oracle(hist, stats=stats)
            got = check(hist, stats=stats)
            assert (got["valid"], set(got["error_types"])) == (valid, found), (valid, found, got, hist)
            verdicts[valid] = verdicts.get(valid, 0) + 1
    return verdicts


def test_kafka_agrees_with_the_oracle_on_random_logs() -> None:
    verdicts = _compare(kafka.check)
    assert min(verdicts.get(v, 0) for v in (True, False)) > 150, verdicts


def test_a_message_from_a_send_that_never_completed_is_not_unexpected() -> None:
    """Regression: the checker knew senders only from completions, so a poll of a message
    whose send was invoked and never completed (its outcome unknown) was "unexpected"
    and a correct log failed."""
    hist = [
        {"index": 0, "time": 0, "process": 0, "type": "invoke", "f": "send", "value": [["send", "a", 1]]},
        {"index": 1, "time": MS, "process": 1, "type": "invoke", "f": "send", "value": [["send", "a", 2]]},
        {"index": 2, "time": 2 * MS, "process": 1, "type": "ok", "f": "send", "value": [["send", "a", [1, 2]]]},
        {"index": 3, "time": 3 * MS, "process": 2, "type": "invoke", "f": "poll", "value": [["poll"]]},
        {"index": 4, "time": 4 * MS, "process": 2, "type": "ok", "f": "poll",
         "value": [["poll", {"a": [[0, 1], [1, 2]]}]]},
    ]
    assert oracle(hist) == (True, set())
    r = kafka.check(hist)
    assert r["valid"] is True and r["unexpected_count"] == 0
    hist[4]["value"][0][1]["a"].append([2, 3])  # 3 was never sent at all
    assert kafka.check(hist)["unexpected"][0]["msg"] == 3
