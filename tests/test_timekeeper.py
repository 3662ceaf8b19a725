"""The Timekeeper track's checkers and workloads: known-good and known-bad histories,
brute-force cross-checks on small random ones, and each workload once in the simulator."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from distlab.checkers import causal, hlc, lamport, vector_clock
from distlab.history import read_jsonl
from distlab.tracks.explain import reasons

History = list[dict[str, Any]]


class Recorder:
    """Builds a history by hand: `call` invokes, `done` completes (times in ms)."""

    def __init__(self) -> None:
        self.records: History = []

    def add(self, ms: float, process: Any, type_: str, f: str, value: Any) -> dict[str, Any]:
        rec = {"index": len(self.records), "time": round(ms * 1e6), "process": process, "type": type_,
               "f": f, "value": value}
        self.records.append(rec)
        return rec

    def stamp(self, ms: float, process: int, node: str, seen: Any, ts: Any, took: float = 1.0) -> None:
        """An invocation and its ok completion, back to back."""
        self.add(ms, process, "invoke", "stamp", {"node": node, "seen": seen})
        self.add(ms + took, process, "ok", "stamp", {"node": node, "seen": seen, "ts": ts})


# ----- lamport ----------------------------------------------------------------------------

def test_lamport_accepts_a_proper_clock() -> None:
    h = Recorder()
    h.stamp(0, 0, "n0", None, 1)
    h.stamp(2, 1, "n1", 1, 2)   # carried n0's stamp to n1
    h.stamp(4, 0, "n0", 1, 2)   # n0 again: greater than its own 1 (ties across nodes are fine)
    h.stamp(6, 2, "n2", None, 1)
    result = lamport.check(h.records)
    assert result["valid"] is True, result
    assert result["stamp_count"] == 4


def test_lamport_catches_a_stamp_not_after_what_the_request_carried() -> None:
    h = Recorder()
    h.stamp(0, 0, "n0", None, 7)
    h.stamp(2, 1, "n1", 7, 7)
    result = lamport.check(h.records)
    assert result["valid"] is False
    assert result["not_after_seen_count"] == 1
    first = result["explanation"].splitlines()[0]
    assert "n1" in first and "seen=7" in first and "n0 had returned" in first and "causally precedes" in first


def test_lamport_catches_a_node_going_back() -> None:
    h = Recorder()
    h.stamp(0, 0, "n0", None, 5)
    h.stamp(2, 3, "n0", None, 3)  # same node, after the first completed: must be above 5
    result = lamport.check(h.records)
    assert result["valid"] is False
    assert result["node_order_count"] == 1 and result["not_after_seen_count"] == 0
    assert "must increase" in result["explanation"] and "t=0.001 s" in result["explanation"]


def test_lamport_leaves_overlapping_operations_on_one_node_unordered() -> None:
    h = Recorder()
    h.add(0, 0, "invoke", "stamp", {"node": "n0", "seen": None})
    h.add(1, 1, "invoke", "stamp", {"node": "n0", "seen": None})
    h.add(2, 1, "ok", "stamp", {"node": "n0", "seen": None, "ts": 2})
    h.add(3, 0, "ok", "stamp", {"node": "n0", "seen": None, "ts": 1})  # overlapped: either order is possible
    assert lamport.check(h.records)["valid"] is True


def test_lamport_reports_malformed_stamps_and_empty_runs() -> None:
    h = Recorder()
    h.stamp(0, 0, "n0", None, "3")
    result = lamport.check(h.records)
    assert result["valid"] is False and result["malformed_count"] == 1
    assert "not an integer" in result["explanation"]
    assert lamport.check([])["valid"] == "unknown"


def _brute_lamport(history: History) -> bool:
    """The clock condition by its definition, over every pair of operations."""
    from distlab.checkers.pairing import calls

    ops = [(inv, done) for _, inv, _, done in calls(history) if done is not None and done["type"] == "ok"]
    for inv, done in ops:
        v = done["value"]
        if v["seen"] is not None and not v["ts"] > v["seen"]:
            return False
        for _, done2 in ops:
            if done2["value"]["node"] == v["node"] and done2["index"] < inv["index"] and not v["ts"] > done2["value"]["ts"]:
                return False
    return True


def test_lamport_agrees_with_brute_force_on_random_histories() -> None:
    rng = random.Random(7)
    bad = 0
    for _ in range(400):
        h = Recorder()
        open_: dict[int, tuple[str, Any]] = {}
        for step in range(12):
            p = rng.randrange(3)
            if p in open_:
                node, seen = open_.pop(p)
                ts = 2 * step - rng.choice((0, 0, 0, 1, 4, 7))
                h.add(step, p, "ok", "stamp", {"node": node, "seen": seen, "ts": ts})
            else:
                node, seen = f"n{rng.randrange(2)}", rng.choice([None, 2 * step - rng.randrange(1, 8)])
                open_[p] = (node, seen)
                h.add(step, p, "invoke", "stamp", {"node": node, "seen": seen})
        expected = _brute_lamport(h.records)
        got = lamport.check(h.records)["valid"]
        assert got == expected or (got == "unknown" and expected), h.records
        bad += not expected
    assert 60 < bad < 340  # both kinds were exercised


# ----- the workloads in the simulator ------------------------------------------------------

LAMPORT_NODE = '''
from distlab import Node
node = Node()
clock = 0

@node.on("stamp")
def stamp(msg):
    global clock
    clock = max(clock, msg.body.get("seen", 0)) + 1
    return {"type": "stamp_ok", "ts": clock}

node.run()
'''

LAMPORT_OWN_COUNTER = LAMPORT_NODE.replace('max(clock, msg.body.get("seen", 0)) + 1', "clock + 1")


def _write(tmp_path: Any, name: str, text: str) -> str:
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    return str(path)


def test_lamport_workload_passes_a_lamport_clock_and_catches_a_plain_counter(simulate: Any, tmp_path: Any) -> None:
    good = simulate(_write(tmp_path, "good", LAMPORT_NODE), workload="lamport", node_count=3, time_limit=3,
                    rate=100, seed=3)
    assert good.valid is True, good.results["workload"]
    assert good.results["workload"]["stamp_count"] > 200
    bad = simulate(_write(tmp_path, "bad", LAMPORT_OWN_COUNTER), workload="lamport", node_count=3, time_limit=3,
                   rate=100, seed=3)
    assert bad.valid is False
    assert bad.results["workload"]["not_after_seen_count"] > 0


@pytest.mark.parametrize("seed", [1, 2])
def test_lamport_workload_records_the_node_each_client_talks_to(simulate: Any, tmp_path: Any, seed: int) -> None:
    """The checker's node order rests on the workload knowing which node served each
    operation, also after clients moved on from a killed node: a node that writes its
    own index into the last digit of its stamps shows the two agree."""
    node = LAMPORT_NODE.replace('"ts": clock}', '"ts": clock * 10 + node.node_ids.index(node.id)}')
    result = simulate(_write(tmp_path, "me", node), workload="lamport", node_count=3, time_limit=4, rate=50,
                      seed=seed, nemesis=["kill"], nemesis_interval=0.5)
    records = read_jsonl(result.run_dir / "history.jsonl")
    assert any(r["type"] == "info" for r in records)  # some clients moved on to another node
    oks = [r for r in records if r["type"] == "ok"]
    assert len(oks) > 20
    assert all(r["value"]["node"] == f"n{r['value']['ts'] % 10}" for r in oks)


# ----- vector clocks -------------------------------------------------------------------------

def _event_history(events: list[tuple[str, list[int], dict[str, int]]]) -> History:
    """Events run one after another: (node, ids of the events the client carried, vc)."""
    h = Recorder()
    vcs: dict[int, dict[str, int]] = {}
    for i, (node, after, vc) in enumerate(events, start=1):
        seen: dict[str, int] = {}
        for a in after:
            for k, v in vcs[a].items():
                seen[k] = max(seen.get(k, 0), v)
        value = {"id": i, "node": node, "seen": seen, "after": after}
        h.add(2 * i, i % 3, "invoke", "event", value)
        h.add(2 * i + 1, i % 3, "ok", "event", {**value, "vc": vc})
        vcs[i] = vc
    return h.records


def test_vector_clock_accepts_true_clocks() -> None:
    h = _event_history([("n0", [], {"n0": 1}), ("n1", [], {"n1": 1}), ("n1", [1], {"n0": 1, "n1": 2}),
                        ("n0", [2], {"n0": 2, "n1": 1})])
    result = vector_clock.check(h)
    assert result["valid"] is True, result
    assert result["event_count"] == 4


def test_vector_clock_catches_a_forgotten_merge() -> None:
    h = _event_history([("n0", [], {"n0": 1}), ("n1", [1], {"n1": 1})])
    result = vector_clock.check(h)
    assert result["valid"] is False and result["not_after_seen_count"] == 1
    assert "must include everything that happened before" in result["explanation"]
    assert "from n0's event 1" in result["explanation"]


def test_vector_clock_catches_an_event_that_did_not_count_itself() -> None:
    h = _event_history([("n0", [], {"n0": 1}), ("n0", [1], {"n0": 1})])
    result = vector_clock.check(h)
    assert result["valid"] is False and "did not count the new event" in result["explanation"]


def test_vector_clock_catches_a_node_clock_that_shrinks() -> None:
    h = _event_history([("n1", [], {"n1": 1}), ("n0", [1], {"n0": 1, "n1": 1}), ("n0", [], {"n0": 2})])
    result = vector_clock.check(h)
    assert result["valid"] is False and result["node_order_count"] >= 1
    assert "a node's clock must only grow" in result["explanation"]


def test_vector_clock_catches_concurrent_events_ordered() -> None:
    # n1's event claims one n0 event, but nobody carried n0's clock to it
    h = _event_history([("n0", [], {"n0": 1}), ("n1", [], {"n0": 1, "n1": 1})])
    result = vector_clock.check(h)
    assert result["valid"] is False and result["concurrent_ordered_count"] == 1
    first = result["explanation"].splitlines()[0]
    assert "n0's event 1" in first and "concurrent" in first


def test_vector_clock_counts_what_a_lost_reply_may_have_told_the_node() -> None:
    h = Recorder()
    h.add(0, 0, "invoke", "event", {"id": 1, "node": "n0", "seen": {}, "after": []})
    h.add(1, 0, "ok", "event", {"id": 1, "node": "n0", "seen": {}, "after": [], "vc": {"n0": 1}})
    # a client carried n0's clock to n1, and the reply was lost: n1 may well have merged it
    h.add(2, 1, "invoke", "event", {"id": 2, "node": "n1", "seen": {"n0": 1}, "after": [1]})
    h.add(9, 1, "info", "event", {"id": 2, "node": "n1", "seen": {"n0": 1}, "after": [1]})
    h.add(10, 4, "invoke", "event", {"id": 3, "node": "n1", "seen": {}, "after": []})
    h.add(11, 4, "ok", "event", {"id": 3, "node": "n1", "seen": {}, "after": [], "vc": {"n0": 1, "n1": 2}})
    assert vector_clock.check(h.records)["valid"] is True


def test_vector_clock_compare_answers() -> None:
    h = Recorder()
    cases = [({"n0": 1}, {"n0": 1, "n1": 0}, "equal"), ({"n0": 1}, {"n0": 2}, "before"),
             ({"n0": 2}, {"n1": 1}, "concurrent"), ({"n0": 1, "n1": 1}, {"n1": 1}, "after")]
    for i, (a, b, said) in enumerate(cases):
        h.add(i, 0, "invoke", "compare", {"a": a, "b": b})
        h.add(i + 0.5, 0, "ok", "compare", {"a": a, "b": b, "order": said})
    h.records += _event_history([("n0", [], {"n0": 1})])
    for i, r in enumerate(h.records):
        r["index"] = i
    assert vector_clock.check(h.records)["valid"] is True
    h.records[5]["value"]["order"] = "after"  # ({"n0": 2}, {"n1": 1}) said to be ordered
    result = vector_clock.check(h.records)
    assert result["valid"] is False and result["wrong_compare_count"] == 1
    assert "concurrent with b" in result["explanation"]


def _clocks_by(kind: str, plan: list[tuple[str, list[int]]], rng: random.Random) -> list[dict[str, int]]:
    """What a node algorithm returns for each event of a plan (events run one at a time)."""
    state: dict[str, dict[str, int]] = {}
    out: list[dict[str, int]] = []
    for node, after in plan:
        seen: dict[str, int] = {}
        for a in after:
            for k, v in out[a - 1].items():
                seen[k] = max(seen.get(k, 0), v)
        vc = state.setdefault(node, {})
        reply = None
        if kind != "no-merge" and not (kind == "flaky-merge" and rng.random() < 0.3):
            target = vc if kind != "reply-only" else dict(vc)
            for k, v in seen.items():
                target[k] = max(target.get(k, 0), v)
            reply = target
        for k in (["n0", "n1", "n2"] if kind == "tick-all" and rng.random() < 0.3 else [node]):
            vc[k] = vc.get(k, 0) + 1
        if reply is not None and reply is not vc:
            reply[node] = vc[node]
        out.append(dict(reply if reply is not None else vc))
    return out


def _brute_vc(plan: list[tuple[str, list[int]]], vcs: list[dict[str, int]]) -> bool:
    """Valid iff a happened before b exactly when vc(a) < vc(b), for every pair, and no
    entry of another node is above that node's own entry in the latest of its events
    that happened before (what the event could have heard of)."""
    n = len(plan)
    hb = [[False] * n for _ in range(n)]
    for b, (node, after) in enumerate(plan):
        for a in after:
            hb[a - 1][b] = True
        for a in range(b):
            if plan[a][0] == node:
                hb[a][b] = True
    for k in range(n):
        for i in range(n):
            if hb[i][k]:
                for j in range(n):
                    if hb[k][j]:
                        hb[i][j] = True
    for a in range(n):
        for b in range(n):
            if a != b and hb[a][b] != (vector_clock.order(vcs[a], vcs[b]) == "before"):
                return False
    for b in range(n):
        for m in ("n0", "n1", "n2"):
            if m != plan[b][0]:
                heard = max([vcs[a].get(m, 0) for a in range(n) if hb[a][b] and plan[a][0] == m], default=0)
                if vcs[b].get(m, 0) > heard:
                    return False
    return True


def test_vector_clock_agrees_with_brute_force_on_random_runs() -> None:
    rng = random.Random(11)
    verdicts = {True: 0, False: 0}
    for trial in range(300):
        kind = ("true", "no-merge", "reply-only", "tick-all", "flaky-merge")[trial % 5]
        plan: list[tuple[str, list[int]]] = []
        for i in range(rng.randrange(2, 9)):
            after = sorted(rng.sample(range(1, i + 1), min(i, rng.randrange(3)))) if i else []
            plan.append((f"n{rng.randrange(3)}", after))
        vcs = _clocks_by(kind, plan, rng)
        expected = _brute_vc(plan, vcs)
        got = vector_clock.check(_event_history([(node, after, vc) for (node, after), vc in zip(plan, vcs, strict=True)]))
        assert got["valid"] is expected, (kind, plan, vcs, got.get("explanation"))
        verdicts[expected] += 1
        if kind == "true":
            assert expected
    assert verdicts[False] > 40


# ----- causal broadcast ------------------------------------------------------------------------

def _chat(broadcasts: list[tuple[int, list[int]]], reads: list[tuple[str, list[int]]], final: bool = False) -> History:
    """Broadcasts (message, deps), all acknowledged, then reads (node, messages)."""
    h = Recorder()
    for i, (m, deps) in enumerate(broadcasts):
        h.add(i, 0, "invoke", "broadcast", {"message": m, "deps": deps})
        h.add(i + 0.5, 0, "ok", "broadcast", {"message": m, "deps": deps})
    for i, (node, messages) in enumerate(reads, start=len(broadcasts)):
        inv = h.add(i, 1 + i, "invoke", "read", {"node": node})
        done = h.add(i + 0.5, 1 + i, "ok", "read", messages)
        if final:
            inv["final"] = done["final"] = True
            inv["node"] = node
    return h.records


def test_causal_accepts_causal_reads() -> None:
    h = _chat([(1, []), (2, [1]), (3, [])], [("n0", [1, 3, 2]), ("n1", [3, 1, 2]), ("n2", [1, 2, 3])], final=True)
    result = causal.check(h)
    assert result["valid"] is True, result
    assert result["causal_count"] == 0


def test_causal_catches_a_message_before_its_cause() -> None:
    h = _chat([(1, []), (2, [1])], [("n1", [2, 1])])
    result = causal.check(h)
    assert result["valid"] is False and result["causal_count"] == 1
    assert "a read on n1" in result["explanation"] and "only after it" in result["explanation"]


def test_causal_catches_a_message_without_its_cause() -> None:
    h = _chat([(1, []), (2, [1])], [("n0", [1, 2]), ("n2", [2])])
    result = causal.check(h)
    assert result["valid"] is False
    assert "n2" in result["explanation"] and "without message 1" in result["explanation"]


def test_causal_catches_a_message_missing_from_a_final_read() -> None:
    h = _chat([(1, []), (2, [1])], [("n0", [1, 2]), ("n1", [1])], final=True)
    result = causal.check(h)
    assert result["valid"] is False and result["causal_count"] == 0
    assert result["final_missing"][0]["node"] == "n1"
    assert reasons({"valid": False, "workload": result})[0].startswith("message 2 was acknowledged but missing from n1")


def test_causal_agrees_with_brute_force_over_transitive_deps() -> None:
    rng = random.Random(5)
    verdicts = {True: 0, False: 0}
    for _ in range(500):
        n = rng.randrange(1, 7)
        deps = {m: sorted(rng.sample(range(1, m), min(m - 1, rng.randrange(3)))) for m in range(1, n + 1)}
        read = rng.sample(range(1, n + 1), rng.randrange(n + 1))
        closure: dict[int, set[int]] = {}
        for m in range(1, n + 1):
            closure[m] = set(deps[m]).union(*(closure[d] for d in deps[m]))
        at = {m: i for i, m in enumerate(read)}
        expected = all(d in at and at[d] < at[m] for m in read for d in closure[m])
        result = causal.check(_chat(list(deps.items()), [("n0", read)]))
        assert (result["causal_count"] == 0) is expected, (deps, read)
        verdicts[expected] += 1
    assert min(verdicts.values()) > 100


# ----- hybrid logical clocks ----------------------------------------------------------------------

def _clock_fault(h: Recorder, ms: float, value: dict[str, Any] | list[str], start: bool = True) -> None:
    f = "start-clock" if start else "stop-clock"
    h.add(ms, "nemesis", "invoke", f, value)
    h.add(ms, "nemesis", "info", f, value)


def test_hlc_accepts_stamps_near_the_clocks() -> None:
    h = Recorder()
    h.stamp(1000, 0, "n0", None, [1000, 0])
    h.stamp(1000, 1, "n1", [1000, 0], [1000, 1], took=0.5)
    h.stamp(2000, 0, "n0", [1000, 0], [2000, 0])
    assert hlc.check(h.records)["valid"] is True


def test_hlc_catches_a_logical_clock_behind_physical_time() -> None:
    h = Recorder()
    h.stamp(3000, 0, "n0", None, [0, 1])
    result = hlc.check(h.records)
    assert result["valid"] is False and result["behind_clock_count"] == 1
    assert "own clock read at least 3000 ms" in result["explanation"]


def test_hlc_catches_l_ahead_of_every_clock() -> None:
    h = Recorder()
    h.stamp(3000, 0, "n0", None, [3050, 0])
    result = hlc.check(h.records)
    assert result["valid"] is False and result["ahead_of_clocks_count"] == 1
    assert "no node's clock had read more than 3001 ms" in result["explanation"]


def test_hlc_allows_what_the_nemesis_made_the_clocks_read() -> None:
    h = Recorder()
    _clock_fault(h, 1000, {"n1": {"mode": "bump", "offset": 60.0}})
    h.stamp(2000, 1, "n1", None, [62000, 0])  # n1's clock is a minute ahead: fine
    h.stamp(2100, 0, "n0", [62000, 0], [62000, 1])  # carried to n0: adopted, fine
    _clock_fault(h, 3000, ["n1"], start=False)
    h.stamp(4000, 0, "n0", [62000, 1], [62000, 2])  # still ahead of every clock now, but some clock read it
    h.stamp(4100, 1, "n1", None, [62000, 3])  # n1's clock is back at 4100; l never goes back
    assert hlc.check(h.records)["valid"] is True, hlc.check(h.records)
    _clock_fault(h, 5000, {"n0": {"mode": "bump", "offset": -30.0}})
    h.stamp(6000, 0, "n0", [62000, 3], [62000, 4])  # a clock behind is no excuse to go back, and is not needed
    assert hlc.check(h.records)["valid"] is True
    h.stamp(7000, 1, "n1", None, [7000, 0])  # but n1 going back below its own 62000 is a violation
    result = hlc.check(h.records)
    assert result["valid"] is False and result["node_order_count"] == 1


def test_hlc_reads_a_strobing_and_drifting_clock_conservatively() -> None:
    clocks = hlc.Clocks([])
    assert clocks.reads("n0", 1.0, 2.0) == (1.0, 2.0)
    h = Recorder()
    _clock_fault(h, 1000, {"n0": {"mode": "strobe", "strobe_delta": -0.4, "strobe_period": 0.01},
                           "n1": {"mode": "drift", "drift": 0.1}})
    clocks = hlc.Clocks(h.records)
    rng = random.Random(3)
    for _ in range(200):
        a = rng.uniform(0, 5)
        b = a + rng.uniform(0, 0.5)
        for node, read in (("n0", lambda x: x - (0.4 if x >= 1 and int(x / 0.01) % 2 else 0)),
                           ("n1", lambda x: x + (0.1 * x if x >= 1 else 0))):
            lo, hi = clocks.reads(node, a, b)
            samples = [read(a + (b - a) * i / 50) for i in range(51)]
            assert lo <= min(samples) + 1e-9 and max(samples) <= hi + 1e-9
            assert hi - lo <= (b - a) * 1.1 + 0.4 + 1e-9  # conservative, but not wildly so


# ----- each workload once in the simulator, with the track's reference ----------------------------

TRACK = Path(__file__).resolve().parent.parent / "distlab" / "tracks" / "timekeeper"


@pytest.mark.parametrize(("task", "workload", "options"), [
    ("03-clock-survives-crashes", "lamport", {"node_count": 3, "rate": 200, "nemesis": ["kill"], "nemesis_interval": 1.5}),
    ("05-concurrent-events", "vector-clock-compare", {"node_count": 3, "concurrency": "2n", "rate": 100}),
    ("06-durable-vector-clocks", "vector-clock", {"node_count": 3, "concurrency": "2n", "rate": 100,
                                                  "nemesis": ["kill"], "nemesis_interval": 1.5, "op_timeout": 0.5}),
    ("09-causal-partitions", "causal-broadcast", {"node_count": 3, "concurrency": "2n", "rate": 100,
                                                  "nemesis": ["partition"], "nemesis_interval": 2}),
    ("12-hlc-clock-skew", "hlc", {"node_count": 3, "concurrency": "2n", "rate": 300, "nemesis": ["clock"],
                                  "nemesis_interval": 1}),
])
def test_each_workload_passes_its_reference_in_the_simulator(simulate: Any, task: str, workload: str,
                                                             options: dict[str, Any]) -> None:
    result = simulate(str(TRACK / task / "reference.py"), workload=workload, time_limit=6, seed=4, **options)
    assert result.valid is True, result.results["workload"]
    again = simulate(str(TRACK / task / "reference.py"), workload=workload, time_limit=6, seed=4, **options)
    assert again.results["trace_hash"] == result.results["trace_hash"]  # seeded: the same run twice


def test_runs_with_nothing_to_judge_say_so_in_words() -> None:
    assert "no stamp request succeeded" in reasons({"valid": "unknown", "workload": lamport.check([])})[0]
    assert "no event request succeeded" in reasons({"valid": "unknown", "workload": vector_clock.check([])})[0]
    assert "no stamp request succeeded" in reasons({"valid": "unknown", "workload": hlc.check([])})[0]
