"""Causal broadcast checker: the whole verdict against an oracle on seeded random runs.

The checker checks each message's direct deps in every read and runs set-full for
completeness; the oracle takes the transitive closure of the deps and checks every
ancestor of every message read, and judges completeness with the set-full oracle of
tests/test_oracle_set_full.py (written from Jepsen's definition, not the checker's code).
"""

from __future__ import annotations

import random
from typing import Any

from distlab.checkers import causal
from tests.test_oracle_set_full import oracle as set_full_oracle

MS = 1_000_000
NODES = ("n0", "n1", "n2")


def oracle(history: list[dict[str, Any]]) -> Any:
    deps: dict[Any, list[Any]] = {}
    open_: dict[Any, dict[str, Any]] = {}
    reads: list[list[Any]] = []
    for rec in history:
        if rec["type"] == "invoke":
            open_[rec["process"]] = rec
            if rec["f"] == "broadcast":
                deps[rec["value"]["message"]] = rec["value"]["deps"]
        elif rec["process"] in open_:
            inv = open_.pop(rec["process"])
            if inv["f"] == "read" and rec["type"] == "ok":
                reads.append(rec["value"])

    def ancestors(m: Any, seen: set[Any]) -> set[Any]:
        for d in deps.get(m, []):
            if d not in seen:
                seen.add(d)
                ancestors(d, seen)
        return seen

    causal_ok = all(d in read and read.index(d) < read.index(m) for read in reads for m in read
                    for d in ancestors(m, set()))
    plain = [{**r, "value": r["value"]["message"]} if r["f"] == "broadcast" else r for r in history]
    completeness = set_full_oracle(plain)["valid"]
    return False if not causal_ok or completeness is False else completeness


def generate(rng: random.Random) -> list[dict[str, Any]]:
    """Clients broadcast messages depending on what their node had delivered; nodes
    deliver in a causal order (or, when broken, in any order or with a dep skipped);
    reads return a node's deliveries; final reads at the end."""
    history: list[dict[str, Any]] = []
    delivered: dict[str, list[int]] = {n: [] for n in NODES}
    deps: dict[int, list[int]] = {}
    broken = rng.random() < 0.6

    def rec(p: int, type_: str, f: str, value: Any, **extra: Any) -> None:
        history.append({"index": len(history), "time": len(history) * MS, "process": p, "type": type_, "f": f,
                        "value": value, **extra})

    def deliver(node: str, m: int) -> None:
        if m in delivered[node]:
            return
        if not (broken and rng.random() < 0.3):
            for d in deps[m]:
                deliver(node, d)
        delivered[node].append(m)

    p = 0
    for m in range(1, rng.randrange(2, 8)):
        node = rng.choice(NODES)
        seen = delivered[node]
        deps[m] = sorted(rng.sample(seen, min(len(seen), rng.randrange(0, 3))))
        p += 1
        rec(p, "invoke", "broadcast", {"message": m, "deps": deps[m]})
        deliver(node, m)
        rec(p, "ok", "broadcast", {"message": m, "deps": deps[m]})
        for other in NODES:
            if rng.random() < 0.4:
                deliver(other, rng.choice(list(deps)))
        if rng.random() < 0.5:
            reader = rng.choice(NODES)
            p += 1
            rec(p, "invoke", "read", {"node": reader})
            seen = list(delivered[reader])
            if seen and rng.random() < 0.2:
                seen.pop(rng.randrange(len(seen)))  # a read that skipped one delivery
            rec(p, "ok", "read", seen)
    for node in NODES:
        if not (broken and rng.random() < 0.2):
            for m in sorted(deps):
                deliver(node, m)
        p += 1
        rec(p, "invoke", "read", {"node": node}, final=True, node=node)
        rec(p, "ok", "read", list(delivered[node]), final=True)
    return history


CASES = 1500


def _compare(check: Any, seed: int = 12) -> dict[Any, int]:
    rng = random.Random(seed)
    verdicts: dict[Any, int] = {}
    for _ in range(CASES):
        hist = generate(rng)
        want = oracle(hist)
        got = check(hist)
        assert got["valid"] == want, (want, got, hist)
        verdicts[want] = verdicts.get(want, 0) + 1
    return verdicts


def test_causal_agrees_with_the_closure_oracle() -> None:
    verdicts = _compare(causal.check)
    assert min(verdicts.get(True, 0), verdicts.get(False, 0)) > 300, verdicts
