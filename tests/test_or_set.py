"""The OR-set / 2P-set checker: known-good and known-bad histories, its final rule
against a brute force over every way a small history could have run, and histories
made by simulated correct (and broken) replicas."""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

import pytest

from distlab.checkers import or_set

NODES = 3


class H:
    """A history written step by step; process p runs on node n{p % 3}."""

    def __init__(self) -> None:
        self.recs: list[dict[str, Any]] = []

    def _add(self, rec: dict[str, Any]) -> dict[str, Any]:
        rec["index"] = len(self.recs)
        rec["time"] = len(self.recs) * 100_000_000
        self.recs.append(rec)
        return rec

    def inv(self, p: int, f: str, v: Any = None, final: bool = False) -> None:
        rec = self._add({"process": p, "type": "invoke", "f": f, "value": v})
        if final:
            rec["final"] = True
            rec["node"] = f"n{p % NODES}"

    def done(self, p: int, f: str, v: Any = None, type_: str = "ok") -> None:
        self._add({"process": p, "type": type_, "f": f, "value": v})

    def op(self, p: int, f: str, v: Any = None, type_: str = "ok") -> None:
        self.inv(p, f, v if f != "read" else None)
        self.done(p, f, v, type_)

    def finals(self, *values: list[Any]) -> list[dict[str, Any]]:
        for i, v in enumerate(values):
            self.inv(1000 + i, "read", None, final=True)
            self.done(1000 + i, "read", v)
        return self.recs


def run(h: list[dict[str, Any]], two_phase: bool = False) -> dict[str, Any]:
    return or_set.check(h, node_count=NODES, two_phase=two_phase)


def test_add_then_read_everywhere_is_valid() -> None:
    h = H()
    h.op(0, "add", 1)
    h.op(1, "read", [1])
    r = run(h.finals([1], [1], [1]))
    assert r["valid"] is True, r


def test_remove_after_add_on_same_node_must_stay_removed() -> None:
    h = H()
    h.op(0, "add", 1)
    h.op(0, "remove", 1)
    r = run(h.finals([], [1], []))
    assert r["valid"] is False
    assert r["resurrected"][0]["element"] == 1
    assert "resurrected" in r["explanation"].splitlines()[0]


def test_remove_on_another_node_may_miss_the_add() -> None:
    """n1 may remove 1 before n0's add reached it: the add survives (no verdict either way)."""
    h = H()
    h.op(0, "add", 1)
    h.op(1, "remove", 1)
    assert run(H().recs + h.finals([1], [1], [1]))["valid"] is True
    h2 = H()
    h2.op(0, "add", 1)
    h2.op(1, "remove", 1)
    assert run(h2.finals([], [], []))["valid"] is True


def test_readd_after_remove_must_be_present_in_or_set_only() -> None:
    def hist() -> H:
        h = H()
        h.op(0, "add", 1)
        h.op(0, "remove", 1)
        h.op(1, "add", 1)
        return h
    r = run(hist().finals([], [], []))
    assert r["valid"] is False and r["missing"][0]["element"] == 1
    assert "missing" in r["explanation"]
    assert run(hist().finals([1], [1], []))["diverged"]
    assert run(hist().finals([1], [1], [1]))["valid"] is True
    # 2P-set: removed for good, the re-add is a no-op
    assert run(hist().finals([], [], []), two_phase=True)["valid"] is True
    r2 = run(hist().finals([1], [1], [1]), two_phase=True)
    assert r2["valid"] is False and r2["resurrected"]


def test_concurrent_add_and_remove_may_end_either_way() -> None:
    for final in ([], [2]):
        h = H()
        h.op(0, "add", 2)
        h.inv(3, "add", 2)  # n0 again, concurrent with n0's remove below
        h.op(0 + 6, "remove", 2)
        h.done(3, "add", 2)
        assert run(h.finals(final, final, final))["valid"] is True


def test_timed_out_add_may_or_may_not_be_there() -> None:
    for final in ([], [5]):
        h = H()
        h.op(0, "add", 5, type_="info")
        h.op(3, "remove", 5)
        assert run(h.finals(final, final, final))["valid"] is True


def test_failed_add_never_shows() -> None:
    h = H()
    h.op(0, "add", 5, type_="fail")
    r = run(h.finals([5], [5], [5]))
    assert r["valid"] is False and r["unexpected_elements"]


def test_read_before_any_add_is_unexpected() -> None:
    h = H()
    h.op(1, "read", [4])
    h.op(0, "add", 4)
    r = run(h.finals([4], [4], [4]))
    assert r["valid"] is False and r["unexpected_elements"][0]["element"] == 4


def test_duplicates_and_malformed_reads() -> None:
    h = H()
    h.op(0, "add", 1)
    h.op(0, "read", [1, 1])
    assert run(h.finals([1], [1], [1]))["duplicated_elements"]
    h2 = H()
    h2.op(0, "add", 1)
    h2.op(0, "read", 7)
    assert run(h2.finals([1], [1], [1]))["malformed_reads"]


def test_final_read_failed_is_unknown_and_none_is_unknown() -> None:
    h = H()
    h.op(0, "add", 1)
    h.inv(1000, "read", None, final=True)
    h.done(1000, "read", None, type_="fail")
    assert run(h.recs)["valid"] == "unknown"
    h2 = H()
    h2.op(0, "add", 1)
    assert run(h2.recs)["valid"] == "unknown"


def test_during_the_run_a_node_sees_its_own_updates() -> None:
    h = H()
    h.op(0, "add", 1)
    h.op(0, "read", [])  # n0 acknowledged the add, nothing removed it
    r = run(h.finals([1], [1], [1]))
    assert r["valid"] is False and not r["missing"][0]["final"]
    h2 = H()
    h2.op(0, "add", 1)
    h2.op(1, "read", [])  # n1 may not have heard yet
    assert run(h2.finals([1], [1], [1]))["valid"] is True
    h3 = H()
    h3.op(0, "add", 1)
    h3.op(0, "remove", 1)
    h3.op(0, "read", [1])
    assert run(h3.finals([], [], []))["resurrected"]
    h4 = H()
    h4.op(0, "add", 1)
    h4.op(0, "remove", 1)
    h4.op(1, "read", [1])  # n1 got the add, not yet the tombstone
    assert run(h4.finals([], [], []))["valid"] is True


def test_two_phase_during_the_run() -> None:
    h = H()
    h.op(1, "add", 1)
    h.op(0, "remove", 1)
    h.op(0, "read", [1])
    assert run(h.finals([], [], []), two_phase=True)["resurrected"]
    h2 = H()
    h2.op(1, "add", 1)
    h2.op(0, "remove", 1)
    h2.op(1, "read", [1])  # n1 has not heard of the remove yet
    assert run(h2.finals([], [], []), two_phase=True)["valid"] is True


# ---- brute force: every world a small history allows, for the final reads ----

def _random_ops(rng: random.Random) -> list[tuple[str, int, int, float, str]]:
    """(kind, node, invoke step, completion step (inf: none), outcome) for one element."""
    ops = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["add", "add", "remove"])
        start = rng.randint(0, 12)
        outcome = rng.choice(["ok", "ok", "ok", "info", "fail"])
        end = start + rng.randint(1, 4)
        ops.append((kind, rng.randrange(NODES), start, end, outcome))
    return ops


def _history_of(ops: list[tuple[str, int, int, float, str]]) -> H:
    """Each op on its own process (on its node); steps become history order."""
    events = []
    for i, (kind, node, start, end, outcome) in enumerate(ops):
        p = node + NODES * (i + 1)
        events.append((start, 0, i, p, kind, "invoke"))
        if outcome != "info":
            events.append((end, 1, i, p, kind, outcome))
    h = H()
    for _, _, _, p, kind, type_ in sorted(events):
        if type_ == "invoke":
            h.inv(p, kind, 0)
        else:
            h.done(p, kind, 0, type_)
    return h


def _brute_force(ops: list[tuple[str, int, int, float, str]], two_phase: bool) -> set[bool]:
    """Whether element 0 can end present, over every choice of which timed-out ops took
    effect and which adds each remove saw (a remove sees its own node's earlier
    acknowledged adds, and can see only adds invoked before it completed)."""
    steps = [(kind, node, start, end if outcome == "ok" else float("inf"), outcome)
             for kind, node, start, end, outcome in ops if outcome != "fail"]
    info = [i for i, s in enumerate(steps) if s[4] == "info"]
    outcomes: set[bool] = set()
    for chosen in itertools.product([False, True], repeat=len(info)):
        live = [i for i, s in enumerate(steps) if s[4] == "ok" or (i in info and chosen[info.index(i)])]
        adds = [i for i in live if steps[i][0] == "add"]
        removes = [i for i in live if steps[i][0] == "remove"]
        if two_phase:
            outcomes.add(bool(adds) and not removes)
            continue
        choices = []
        for r in removes:
            _, rnode, rstart, rend, _ = steps[r]
            forced = {a for a in adds if steps[a][1] == rnode and steps[a][3] < rstart}
            may = [a for a in adds if steps[a][2] < rend and a not in forced]
            choices.append([forced | set(extra) for k in range(len(may) + 1)
                            for extra in itertools.combinations(may, k)])
        for seen in itertools.product(*choices) if choices else [()]:
            observed = set().union(*seen) if seen else set()
            outcomes.add(any(a not in observed for a in adds))
    return outcomes


@pytest.mark.parametrize("two_phase", [False, True])
def test_final_rule_matches_brute_force(two_phase: bool) -> None:
    rng = random.Random(7)
    for _ in range(400):
        ops = _random_ops(rng)
        # steps must not tie: make them distinct
        ops = [(k, n, 10 * s + i, 10 * e + i + 5, o) for i, (k, n, s, e, o) in enumerate(ops)]
        possible = _brute_force(ops, two_phase)
        for present in (False, True):
            h = _history_of(ops)
            value = [0] if present else []
            r = run(h.finals(value, value, value), two_phase)
            judged_ok = not (r["missing"] or r["resurrected"] or r["unexpected_elements"])
            assert judged_ok == (present in possible), (ops, present, possible, r.get("explanation"))


# ---- simulated replicas: correct ones always pass, broken ones get caught ----

class Replica:
    def __init__(self, kind: str, name: str) -> None:
        self.kind, self.name = kind, name
        self.tags: dict[int, set[str]] = {}
        self.tombs: set[str] = set()
        self.counter = 0

    def add(self, e: int) -> None:
        self.counter += 1
        self.tags.setdefault(e, set()).add(f"{self.name}:{self.counter}")
        if self.kind == "element-tombstones":
            self.tags[e] = {"x"}

    def remove(self, e: int) -> None:
        if self.kind == "two-phase":
            self.tombs.add(str(e))
        elif self.kind == "forget":
            self.tags.pop(e, None)
        elif self.kind == "element-tombstones":
            self.tombs.add("x" + str(e))
        else:
            self.tombs |= self.tags.get(e, set())

    def read(self) -> list[int]:
        if self.kind == "two-phase":
            return sorted(e for e in self.tags if str(e) not in self.tombs)
        if self.kind == "element-tombstones":
            return sorted(e for e in self.tags if "x" + str(e) not in self.tombs)
        return sorted(e for e, ts in self.tags.items() if ts - self.tombs)

    def state(self) -> tuple[dict[int, set[str]], set[str]]:
        return {e: set(ts) for e, ts in self.tags.items()}, set(self.tombs)

    def merge(self, state: tuple[dict[int, set[str]], set[str]]) -> None:
        tags, tombs = state
        for e, ts in tags.items():
            self.tags.setdefault(e, set()).update(ts)
        self.tombs |= tombs


def simulate(kind: str, seed: int, steps: int = 120) -> list[dict[str, Any]]:
    """A run of three replicas under random delivery: clients' operations are invoked,
    applied at their node and completed as separate steps (so they overlap), some time
    out (and may still apply later), gossip is delayed, reordered or dropped."""
    rng = random.Random(seed)
    nodes = [Replica(kind, f"n{i}") for i in range(NODES)]
    h = H()
    pending: dict[int, list[Any]] = {}  # process -> [f, element, applied?, read value]
    procs = list(range(2 * NODES))
    orphans: list[tuple[int, str, int]] = []  # timed out, not yet applied: (node, f, element)
    mail: list[tuple[int, Any]] = []
    for _ in range(steps):
        roll = rng.random()
        if roll < 0.25:
            idle = [p for p in procs if p not in pending]
            if idle:
                p = rng.choice(idle)
                f = rng.choice(["add", "add", "remove", "read"])
                e = rng.randrange(4)
                pending[p] = [f, e, False, None]
                h.inv(p, f, e if f != "read" else None)
        elif roll < 0.45 and pending:
            p = rng.choice(list(pending))
            f, e, applied, _ = pending[p]
            node = nodes[p % NODES]
            if not applied:
                if f == "read":
                    pending[p][3] = node.read()
                else:
                    getattr(node, f)(e)
                pending[p][2] = True
        elif roll < 0.65 and pending:
            p = rng.choice(list(pending))
            f, e, applied, value = pending[p]
            if applied:
                h.done(p, f, value if f == "read" else e)
                del pending[p]
            elif rng.random() < 0.3 and f != "read":
                h.done(p, f, e, "fail")
                del pending[p]
        elif roll < 0.7 and pending:
            p = rng.choice(list(pending))
            f, e, applied, _ = pending.pop(p)
            h.done(p, f, e if f != "read" else None, "info")
            if not applied and f != "read":
                orphans.append((p % NODES, f, e))
            procs[procs.index(p)] = p + 2 * NODES  # same node, a new process
        elif roll < 0.75 and orphans:
            node_i, f, e = orphans.pop(rng.randrange(len(orphans)))
            getattr(nodes[node_i], f)(e)
        elif roll < 0.9:
            src, dst = rng.sample(range(NODES), 2)
            mail.append((dst, nodes[src].state()))
        elif mail:
            dst, state = mail.pop(rng.randrange(len(mail)))
            if rng.random() < 0.8:
                nodes[dst].merge(state)
    for p, (f, e, applied, value) in list(pending.items()):
        h.done(p, f, value if f == "read" else e) if applied else h.done(p, f, None if f == "read" else e, "info")
    for node_i, f, e in orphans:
        if rng.random() < 0.5:
            getattr(nodes[node_i], f)(e)
    for _ in range(2):  # heal and converge
        for a in nodes:
            for b in nodes:
                b.merge(a.state())
    return h.finals(*(n.read() for n in nodes))


@pytest.mark.parametrize("kind,two_phase", [("or", False), ("two-phase", True)])
def test_correct_replicas_always_pass(kind: str, two_phase: bool) -> None:
    for seed in range(300):
        r = run(simulate(kind, seed), two_phase)
        assert r["valid"] is True, (seed, r.get("explanation"))


@pytest.mark.parametrize("kind,two_phase,anomaly", [
    ("forget", False, "resurrected"),
    ("element-tombstones", False, "missing"),
    ("two-phase", False, "missing"),
    ("or", True, "resurrected"),
])
def test_broken_replicas_get_caught(kind: str, two_phase: bool, anomaly: str) -> None:
    caught = sum(bool(run(simulate(kind, seed), two_phase)[anomaly]) for seed in range(300))
    assert caught >= 5, caught


def test_workload_homes_most_elements_on_the_clients_node() -> None:
    from distlab.workloads.or_set import ORSet, SetParams

    wl = ORSet(SetParams(node_count=3), random.Random(1))
    ops = [(p, wl.next_op(p)) for p in range(3) for _ in range(200)]
    updates = [(p, op) for p, op in ops if op.f != "read"]
    home = sum(op.value % 3 == p for p, op in updates)
    assert home / len(updates) > 0.7
    assert {op.f for _, op in ops} == {"add", "remove", "read"}
    readds = [op.value for _, op in updates if op.f == "add"]
    assert len(set(readds)) < len(readds)  # removed elements come back
    assert wl.request(updates[0][1]) == {"type": updates[0][1].f, "element": updates[0][1].value}


TASKS = Path(__file__).resolve().parents[1] / "distlab" / "tracks" / "counter"


@pytest.mark.parametrize(("node", "workload", "valid"), [
    ("08-or-set/reference.py", "or-set", True),
    ("08-or-set/mutants/forget_on_remove.py", "or-set", False),
    ("07-two-phase-set/reference.py", "2p-set", True),
    ("08-or-set/reference.py", "2p-set", False),  # an OR-set lets re-added elements back
])
def test_end_to_end_under_partitions(simulate: Any, node: str, workload: str, valid: bool) -> None:
    result = simulate("echo", bin=str(TASKS / node), workload=workload, node_count=3, time_limit=8, rate=20,
                      nemesis=["partition"], nemesis_interval=2)
    assert (result.valid is True) == valid, result.results["workload"].get("explanation")
