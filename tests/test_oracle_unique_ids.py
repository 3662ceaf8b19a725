"""unique-ids against a pairwise oracle on seeded random histories.

The checker counts canonical JSON (or the raw values, on its fast path for ints and
strings); the oracle compares every pair of acknowledged ids with its own JSON
equality, in which 1, True, 1.0, "1" and [1] all differ and dict key order does not
matter.
"""

from __future__ import annotations

import random
from typing import Any

from distlab.checkers import unique_ids

POOL: list[Any] = [0, 1, 2, True, False, 1.0, 2.5, "1", "a", "b", None, [1], [True], ["1"], [1, 2], [2, 1],
                   {"n": 1, "c": 2}, {"c": 2, "n": 1}, {"n": True}, {"n": [1, {"x": 1}]}, {"n": [1, {"x": 1.0}]},
                   "n1-1", "n2-1", 2**63, -3]


def same(a: Any, b: Any) -> bool:
    """JSON equality that keeps types apart (Python's == says 1 == True == 1.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def oracle(history: list[dict[str, Any]]) -> tuple[bool, int]:
    ids = [r["value"] for r in history if r["process"] != "nemesis" and r["type"] == "ok"]
    dup_pairs = [(i, j) for i in range(len(ids)) for j in range(i + 1, len(ids)) if same(ids[i], ids[j])]
    # distinct duplicated ids: those i that are the first of their class and have a later twin
    firsts = {i for i, _ in dup_pairs} - {j for _, j in dup_pairs}
    return not dup_pairs, len(firsts)


def generate(rng: random.Random) -> list[dict[str, Any]]:
    history: list[dict[str, Any]] = []
    ints_only = rng.random() < 0.4
    for p in range(rng.randrange(1, 12)):
        history.append({"index": len(history), "time": 0, "process": p % 3, "type": "invoke", "f": "generate",
                        "value": None})
        if rng.random() < 0.1:
            history.append({"index": len(history), "time": 0, "process": "nemesis", "type": "info",
                            "f": "start-partition", "value": rng.choice(POOL)})
        outcome = rng.choices(("ok", "info", "fail"), (8, 1, 1))[0]
        v = rng.randrange(8) if ints_only else rng.choice(POOL)
        history.append({"index": len(history), "time": 0, "process": p % 3, "type": outcome, "f": "generate",
                        "value": v if outcome == "ok" else rng.choice((None, v))})
    return history


CASES = 3000


def _compare(check: Any, seed: int = 5) -> dict[bool, int]:
    rng = random.Random(seed)
    verdicts = {True: 0, False: 0}
    for _ in range(CASES):
        hist = generate(rng)
        valid, dup_count = oracle(hist)
        got = check(hist)
        assert (got["valid"], got["duplicated_count"]) == (valid, dup_count), (valid, dup_count, got, hist)
        verdicts[valid] += 1
    return verdicts


def test_unique_ids_agrees_with_the_pairwise_oracle() -> None:
    verdicts = _compare(unique_ids.check)
    assert min(verdicts.values()) > 500, verdicts
