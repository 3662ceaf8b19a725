"""The kv search cuts configurations that can no longer reach a pending get's value
(appends only grow a string; a put is a barrier). These histories aim at that cut:
many concurrent appends and puts on one key, gets of every nearby value, compared
with the brute-force oracle, and kv values that are not strings (no claim made)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from distlab.checkers.linearizable import check
from tests.lin_oracle import linearizable

WRITES = [("append", "a"), ("append", "b"), ("append", "c"), ("put", "x"), ("put", "")]
GETS = ["", "a", "b", "ab", "ba", "abc", "cab", "x", "xa", "xab", "xba", "bc", "ca", "acb"]


def _history(rng: random.Random) -> list[dict[str, Any]]:
    """Up to 5 processes; each call invoked and completed at random points, so calls overlap."""
    calls = []
    for p in range(rng.randint(2, 5)):
        if rng.random() < 0.4:
            f, v = "get", None
            result = rng.choice(GETS)
        else:
            f, v = rng.choice(WRITES)
            result = v
        outcome = rng.choices(["ok", "info"], weights=[5, 1])[0]
        calls.append((p, f, v, result, outcome))
    events: list[tuple[float, int, dict[str, Any]]] = []
    for p, f, v, result, outcome in calls:
        start = rng.random()
        events.append((start, 0, {"process": p, "type": "invoke", "f": f, "key": "k", "value": v}))
        if outcome == "ok":
            end = start + rng.random()
            events.append((end, 1, {"process": p, "type": "ok", "f": f, "key": "k", "value": result}))
    events.sort(key=lambda e: (e[0], e[1]))
    return [rec for _, _, rec in events]


@pytest.mark.parametrize("seed", range(4))
def test_kv_pruning_agrees_with_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    disagreements = []
    invalid = 0
    for _ in range(1500):
        history = _history(rng)
        expected = linearizable(history, "kv")
        invalid += not expected
        got = check(history, "kv").valid
        if got is not expected:
            disagreements.append((history, expected, got))
    assert not disagreements, disagreements[0]
    assert 100 < invalid < 1400  # the generator makes both kinds


def test_kv_values_that_are_not_strings() -> None:
    def rec(p: int, t: str, f: str, v: Any) -> dict[str, Any]:
        return {"process": p, "type": t, "f": f, "key": "k", "value": v}

    good = [rec(0, "invoke", "put", 5), rec(0, "ok", "put", 5),
            rec(1, "invoke", "get", None), rec(1, "ok", "get", 5)]
    assert check(good, "kv").valid is True
    bad = [*good[:3], rec(1, "ok", "get", 6)]
    assert check(bad, "kv").valid is False
