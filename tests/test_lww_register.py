"""The LWW-register checker: known-good and known-bad histories, its final rule against
a brute force over every timestamp order, and histories made by simulated replicas
(Lamport clocks always pass; broken clocks get caught)."""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

import pytest

from distlab.checkers import lww_register

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

    def write(self, p: int, v: int, type_: str = "ok") -> None:
        self.inv(p, "write", v)
        self.done(p, "write", v, type_)

    def read(self, p: int, v: Any) -> None:
        self.inv(p, "read")
        self.done(p, "read", v)

    def finals(self, *values: Any) -> list[dict[str, Any]]:
        for i, v in enumerate(values):
            self.inv(1000 + i, "read", None, final=True)
            self.done(1000 + i, "read", v)
        return self.recs


def run(h: list[dict[str, Any]]) -> dict[str, Any]:
    return lww_register.check(h, node_count=NODES)


def test_last_write_everywhere_is_valid() -> None:
    h = H()
    h.write(0, 1)
    h.read(1, 1)
    h.write(1, 2)
    r = run(h.finals(2, 2, 2))
    assert r["valid"] is True, r


def test_write_after_seeing_must_win() -> None:
    h = H()
    h.write(0, 1)
    h.read(1, 1)
    h.write(1, 2)  # n1 saw 1, then wrote 2: 2 is stamped higher
    r = run(h.finals(1, 1, 1))
    assert r["valid"] is False and r["lost_writes"][0]["later"] == 2
    assert "lost write" in r["explanation"].splitlines()[0]


def test_follows_is_transitive() -> None:
    h = H()
    h.write(0, 1)
    h.read(1, 1)
    h.write(1, 2)
    h.read(2, 2)
    h.write(2, 3)  # 3 follows 2 follows 1
    r = run(h.finals(1, 1, 1))
    assert r["valid"] is False and r["lost_writes"][0]["later"] in (2, 3)
    assert run(H().recs + _chain().finals(3, 3, 3))["valid"] is True


def _chain() -> H:
    h = H()
    h.write(0, 1)
    h.read(1, 1)
    h.write(1, 2)
    h.read(2, 2)
    h.write(2, 3)
    return h


def test_concurrent_writes_may_end_either_way() -> None:
    for final in (1, 2):
        h = H()
        h.write(0, 1)
        h.write(1, 2)  # n1 never saw 1: real-time order says nothing about stamps
        assert run(h.finals(final, final, final))["valid"] is True


def test_a_replica_never_goes_back() -> None:
    h = H()
    h.write(0, 1)
    h.read(1, 1)
    h.write(1, 2)
    h.read(1, 1)  # n1 had its own write 2, which follows 1
    r = run(h.finals(2, 2, 2))
    assert r["valid"] is False and r["went_back"]
    assert "went back" in r["explanation"]
    h2 = H()
    h2.write(0, 1)
    h2.read(0, None)
    assert run(h2.finals(1, 1, 1))["went_back"]
    h3 = H()
    h3.write(0, 1)
    h3.read(1, 1)
    h3.write(1, 2)
    h3.read(2, 1)  # n2 has not heard of 2 yet
    assert run(h3.finals(2, 2, 2))["valid"] is True


def test_diverged_unexpected_and_empty_finals() -> None:
    h = H()
    h.write(0, 1)
    h.write(1, 2)
    r = run(h.finals(1, 2, 1))
    assert r["valid"] is False and r["diverged"]
    h2 = H()
    h2.write(0, 1)
    assert run(h2.finals(9, 9, 9))["unexpected_values"]
    h3 = H()
    h3.read(0, 1)
    h3.write(0, 1)  # read before the write was invoked
    assert run(h3.finals(1, 1, 1))["unexpected_values"]
    h4 = H()
    h4.write(0, 1)
    assert run(h4.finals(None, None, None))["lost_writes"]
    h5 = H()
    h5.write(0, 1, type_="fail")
    assert run(h5.finals(None, None, None))["valid"] is True
    assert run(H().finals(None, None, None))["valid"] is True


def test_timed_out_write_is_judged_only_once_seen() -> None:
    h = H()
    h.write(0, 1, type_="info")
    h.write(1, 2)
    assert run(h.finals(2, 2, 2))["valid"] is True
    h2 = H()
    h2.write(0, 1, type_="info")
    h2.read(1, 1)  # it happened, n1 saw it
    h2.write(1, 2)
    assert run(h2.finals(1, 1, 1))["lost_writes"]


def test_failed_or_missing_final_read_is_unknown() -> None:
    h = H()
    h.write(0, 1)
    h.inv(1000, "read", None, final=True)
    h.done(1000, "read", None, type_="fail")
    assert run(h.recs)["valid"] == "unknown"
    h2 = H()
    h2.write(0, 1)
    assert run(h2.recs)["valid"] == "unknown"


# ---- brute force: every stamp order the writes could have had ----

def _random_history(rng: random.Random) -> tuple[H, list[int]]:
    h = H()
    written: list[int] = []
    for _ in range(rng.randint(2, 7)):
        p = rng.randrange(NODES) + NODES * rng.randrange(3)
        if written and rng.random() < 0.45:
            h.read(p, rng.choice(written))  # any value: the checker may call it went back, that is fine here
        else:
            v = len(written) + 1
            written.append(v)
            h.write(p, v, rng.choice(["ok", "ok", "ok", "info", "fail"]))
    return h, written


def _brute_force(recs: list[dict[str, Any]]) -> set[Any]:
    """Every value that can win: over which timed-out writes happened (a write someone
    read did), and every order of stamps in which each write outranks everything its
    node had seen (its own acknowledged writes, values it read, its own writes someone
    read) before it was invoked, and each value a read returned outranks what its node
    had seen before (a replica only moves up)."""
    writes = {}
    outcome: dict[int, str] = {}
    for rec in recs:
        if rec["f"] == "write":
            if rec["type"] == "invoke":
                writes[rec["value"]] = (f"n{rec['process'] % NODES}", rec["index"])
            else:
                outcome[rec["value"]] = rec["type"]
    read_values = {r["value"] for r in recs if r["f"] == "read" and r["type"] == "ok" and r["value"] is not None}
    seen_events = []  # (node, index, value)
    for rec in recs:
        if rec["type"] == "ok" and rec["f"] == "write":
            seen_events.append((writes[rec["value"]][0], rec["index"], rec["value"]))
        if rec["type"] == "ok" and rec["f"] == "read" and rec["value"] is not None and not rec.get("final"):
            seen_events.append((f"n{rec['process'] % NODES}", rec["index"], rec["value"]))
            if rec["value"] in writes:  # it had taken effect on its writer's node by then
                seen_events.append((writes[rec["value"]][0], rec["index"], rec["value"]))
    # a read returning v on a node that had seen s: that replica moved up from s to v
    invoked: dict[int, int] = {}
    climbs = []  # (s, v): s stamped below v
    for rec in recs:
        if rec["f"] == "read" and rec["type"] == "invoke":
            invoked[rec["process"]] = rec["index"]
        elif rec["f"] == "read" and rec["type"] == "ok" and rec["value"] is not None:
            node = f"n{rec['process'] % NODES}"
            climbs += [(s, rec["value"]) for n, at, s in seen_events
                       if n == node and at < invoked[rec["process"]] and s != rec["value"]]
    maybe = [v for v in writes if outcome.get(v, "info") == "info" and v not in read_values]
    sure = [v for v in writes if outcome.get(v) == "ok" or (v in read_values and outcome.get(v) != "fail")]
    winners: set[Any] = set()
    for k in range(len(maybe) + 1):
        for extra in itertools.combinations(maybe, k):
            live = sure + list(extra)
            if not live:
                winners.add(None)
                continue
            for order in itertools.permutations(live):
                rank = {v: i for i, v in enumerate(order)}
                fits = all(rank[seen] < rank[v] for v in live for node, at, seen in seen_events
                           if node == writes[v][0] and at < writes[v][1] and seen != v and seen in rank) \
                    and all(rank[s] < rank[v] for s, v in climbs if s in rank and v in rank)
                if fits:
                    winners.add(order[-1])
    return winners


def test_final_rule_matches_brute_force() -> None:
    rng = random.Random(3)
    checked = 0
    for _ in range(300):
        h, written = _random_history(rng)
        base = list(h.recs)
        if run(base + H().finals())["went_back"] or run(base)["unexpected_values"]:
            continue  # reads that no correct replica could return: not this test's question
        possible = _brute_force(base)
        for candidate in [None, *written]:
            hh = H()
            hh.recs = [dict(r) for r in base]
            r = run(hh.finals(candidate, candidate, candidate))
            judged_ok = not (r["lost_writes"] or r["unexpected_values"])
            assert judged_ok == (candidate in possible), (base, candidate, possible, r.get("explanation"))
        checked += 1
    assert checked > 100


# ---- simulated replicas ----

def simulate(kind: str, seed: int, steps: int = 150) -> list[dict[str, Any]]:
    """Three replicas under random delivery; operations are invoked, applied and
    completed as separate steps; some time out; gossip is delayed, reordered, dropped."""
    rng = random.Random(seed)
    skew = [rng.choice([-50.0, 0.0, 30.0]) for _ in range(NODES)]
    clock = [0] * NODES
    held: list[tuple[Any, Any]] = [((0, ""), None)] * NODES  # (stamp, value)
    h = H()
    pending: dict[int, list[Any]] = {}
    procs = list(range(2 * NODES))
    mail: list[tuple[int, tuple[Any, Any]]] = []
    next_value = 0

    def stamp(n: int, step: int) -> Any:
        if kind == "wall-clock":
            return (step + skew[n], f"n{n}")
        clock[n] += 1
        return (clock[n], f"n{n}") if kind != "no-tie-break" else (clock[n], "")

    def merge(n: int, incoming: tuple[Any, Any]) -> None:
        if kind in ("lamport", "no-tie-break"):
            clock[n] = max(clock[n], incoming[0][0])
        if incoming[0] > held[n][0]:
            held[n] = incoming

    for step in range(steps):
        roll = rng.random()
        if roll < 0.3:
            idle = [p for p in procs if p not in pending]
            if idle:
                p = rng.choice(idle)
                if rng.random() < 0.5:
                    next_value += 1
                    pending[p] = ["write", next_value, False, None]
                    h.inv(p, "write", next_value)
                else:
                    pending[p] = ["read", None, False, None]
                    h.inv(p, "read")
        elif roll < 0.5 and pending:
            p = rng.choice(list(pending))
            f, v, applied, _ = pending[p]
            n = p % NODES
            if not applied:
                if f == "write":
                    merge(n, (stamp(n, step), v))
                else:
                    pending[p][3] = held[n][1]
                pending[p][2] = True
        elif roll < 0.7 and pending:
            p = rng.choice(list(pending))
            f, v, applied, value = pending[p]
            if applied:
                h.done(p, f, v if f == "write" else value)
                del pending[p]
        elif roll < 0.73 and pending:
            p = rng.choice(list(pending))
            f, v, applied, _ = pending.pop(p)
            h.done(p, f, v, "info")
            procs[procs.index(p)] = p + 2 * NODES
        elif roll < 0.88:
            src, dst = rng.sample(range(NODES), 2)
            mail.append((dst, held[src]))
        elif mail:
            dst, state = mail.pop(rng.randrange(len(mail)))
            if rng.random() < 0.8:
                merge(dst, state)
    for p, (f, v, _, _) in list(pending.items()):
        h.done(p, f, v, "info")
    for _ in range(2):
        for a in range(NODES):
            for b in range(NODES):
                merge(b, held[a])
    return h.finals(*(held[n][1] for n in range(NODES)))


def test_lamport_replicas_always_pass() -> None:
    for seed in range(300):
        r = run(simulate("lamport", seed))
        assert r["valid"] in (True, "unknown") and not any(r[k] for k in lww_register.ANOMALIES), \
            (seed, r.get("explanation"))


@pytest.mark.parametrize("kind", ["wall-clock", "no-tie-break"])
def test_broken_replicas_get_caught(kind: str) -> None:
    caught = sum(run(simulate(kind, seed))["valid"] is False for seed in range(300))
    assert caught >= 5, caught


TASKS = Path(__file__).resolve().parents[1] / "distlab" / "tracks" / "counter"


@pytest.mark.parametrize(("node", "valid"), [
    ("09-lww-register/reference.py", True),
    ("27-lww-register-clock-skew/reference.py", True),
    ("27-lww-register-clock-skew/mutants/wall_clock.py", False),
])
def test_end_to_end_with_skewed_clocks(simulate: Any, node: str, valid: bool) -> None:
    result = simulate("echo", bin=str(TASKS / node), workload="lww-register", node_count=3, time_limit=10,
                      rate=30, nemesis=["partition", "clock"], nemesis_interval=1)
    assert (result.valid is True) == valid, result.results["workload"].get("explanation")
