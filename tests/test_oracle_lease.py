"""Lease checker: the whole verdict against an every-pair oracle on seeded random runs.

tests/test_elector.py already compares the stale-claim sweep with brute force; this
compares the whole verdict (one holder per epoch, epochs in real-time order, the
final reads, malformed epochs), with the oracle pairing calls itself and looking at
every pair of claims.
"""

from __future__ import annotations

import random
from typing import Any

from distlab.checkers import lease

NODES = ("n0", "n1", "n2")


def oracle(history: list[dict[str, Any]]) -> bool:
    open_: dict[Any, dict[str, Any]] = {}
    answers: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    for rec in history:
        if rec["type"] == "invoke":
            open_[rec["process"]] = rec
            answers.append((rec, None))
        elif rec["process"] in open_:
            inv = open_.pop(rec["process"])
            answers = [(i, rec if i is inv else d) for i, d in answers]
    claims = []  # (node, start, end, epoch)
    final_holders = set()
    final_answered = False
    for inv, done in answers:
        node = inv["value"]["node"]
        if done is None or done["type"] != "ok":
            if inv.get("final"):
                return False  # a node that did not answer at the end
            continue
        final_answered |= bool(inv.get("final"))
        if done["value"].get("holder") is not True:
            continue
        epoch = done["value"].get("epoch")
        if type(epoch) is not int:
            return False  # a claim without an integer epoch
        claims.append((node, inv["time"], done["time"], epoch))
        if inv.get("final"):
            final_holders.add(node)
    for a in claims:
        for b in claims:
            if a[3] == b[3] and a[0] != b[0]:
                return False  # two holders of one epoch
            if a[2] < b[1] and b[3] < a[3]:
                return False  # b began after a ended, with an older epoch
    return not (len(final_holders) > 1 or (final_answered and not final_holders))


def generate(rng: random.Random) -> list[dict[str, Any]]:
    """Claims by a model lease (epochs rising with time, one holder each), some of them
    made wrong: an old epoch reused, a second holder, a bad epoch, a missing final answer."""
    events: list[tuple[float, int, dict[str, Any]]] = []
    proc = 0

    def call(node: str, start: float, end: float | None, value: dict[str, Any] | None, final: bool = False) -> None:
        nonlocal proc
        proc += 1
        inv = {"process": proc, "type": "invoke", "f": "lease", "value": {"node": node}, **({"final": True} if final else {})}
        events.append((start, len(events), inv))
        if end is not None:
            done = {"process": proc, "type": "ok" if value is not None else "info", "f": "lease",
                    "value": {"node": node, **(value or {})}}
            events.append((end, len(events), done))

    holder, epoch, t = rng.choice(NODES), 1, 0.0
    for _ in range(rng.randrange(1, 8)):
        t += rng.randrange(1, 6) / 2
        if rng.random() < 0.3:
            holder, epoch = rng.choice(NODES), epoch + 1
        node = rng.choice(NODES)
        end = t + rng.randrange(0, 4) / 2
        r = rng.random()
        if node == holder:
            value: dict[str, Any] = {"holder": True, "epoch": epoch}
        else:
            value = {"holder": False, "epoch": epoch}
        if r < 0.08:
            value = {"holder": True, "epoch": max(1, epoch - rng.randrange(0, 2))}  # a stale or second holder
        elif r < 0.11:
            value = {"holder": True, "epoch": rng.choice((None, "2", True, 1.0))}
        call(node, t, end, value)
    t += 5
    for node in NODES:
        r = rng.random()
        if r < 0.05:
            call(node, t, None, None, final=True)
        elif r < 0.1:
            call(node, t, t + 0.5, None, final=True)
        else:
            value = {"holder": node == holder, "epoch": epoch}
            if rng.random() < 0.1:
                value["holder"] = not value["holder"]
            call(node, t, t + 0.5, value, final=True)
    history = []
    for time, _, rec in sorted(events, key=lambda e: e[:2]):
        history.append({"index": len(history), "time": round(time * 1e9), **rec})
    return history


CASES = 1500


def _compare(check: Any, seed: int = 8) -> dict[bool, int]:
    rng = random.Random(seed)
    verdicts = {True: 0, False: 0}
    for _ in range(CASES):
        hist = generate(rng)
        want = oracle(hist)
        got = check(hist)
        assert got["valid"] is want, (want, got, hist)
        verdicts[want] += 1
    return verdicts


def test_lease_agrees_with_the_every_pair_oracle() -> None:
    verdicts = _compare(lease.check)
    assert min(verdicts.values()) > 300, verdicts
