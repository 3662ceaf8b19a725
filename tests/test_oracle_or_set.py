"""OR-set and 2P-set checker against a possible-worlds oracle, on seeded small histories.

tests/test_or_set.py compares the final-read rule with brute force; this covers the
reads during the run too. The histories are sequential (one operation at a time)
on two nodes, one element, so a world is fixed by which timed-out operations took
effect and when each update reached the other node (before which of its later
operations, or only at the end). The oracle tries every world, replaying replicas:
an add makes a new tag; an OR-set remove tombstones the tags its node has seen, a
2P-set remove tombstones the element for good; a read shows the element when its
node holds a tag (2P: an add) and no tombstone for it. A history is valid when some
world explains every read; final reads see everything delivered.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from distlab.checkers import or_set

NODES = 2
MS = 1_000_000


def oracle(ops: list[tuple[str, int, str, Any]], two_phase: bool, only: list[int] | None = None) -> Any:
    """ops: (kind, node, outcome, read value or None), in order; kind add / remove /
    read / final. Returns the verdict: True, False, or "unknown". With `only`, just
    those reads must be explained (the others may show anything)."""
    finals = [op for op in ops if op[0] == "final"]
    if any(op[2] != "ok" for op in finals) or not finals:
        unknown = True
    else:
        unknown = False
    updates = [i for i, op in enumerate(ops) if op[0] in ("add", "remove") and op[2] != "fail"]
    reads = [i for i, op in enumerate(ops) if op[0] in ("read", "final") and op[2] == "ok"]
    if any(len(ops[i][3]) != len(set(ops[i][3])) for i in reads):
        return False  # an element twice in one read
    if only is not None:
        reads = only
    last = max(i for i, op in enumerate(ops) if op[0] != "final") if len(finals) < len(ops) else -1
    # where each update took effect: an acknowledged one at its call; a timed-out one
    # at its call, between any two later operations, or never (None)
    when = {i: [i] if ops[i][2] == "ok" else [i, *(j + 0.5 for j in range(i, last + 1)), None] for i in updates}
    for places in itertools.product(*(when[i] for i in updates)):
        at = {i: p for i, p in zip(updates, places, strict=True) if p is not None}
        live = sorted(at)
        # when each reached the other node: just before one of the later things that node
        # did (an operation, or a timed-out remove taking effect), or only at the end
        later = {i: sorted({j for j in range(len(ops)) if j > at[i] and ops[j][1] != ops[i][1]
                            and ops[j][0] != "final"}
                           | {at[x] for x in live if at[x] > at[i] and ops[x][1] != ops[i][1]}) + [None]
                 for i in live}
        for arrivals in itertools.product(*(later[i] for i in live)):
            arrive = dict(zip(live, arrivals, strict=True))
            if _explains(ops, at, arrive, reads, two_phase):
                return "unknown" if unknown else True
    return False


def _explains(ops: list[tuple[str, int, str, Any]], at: dict[int, float], arrive: dict[int, int | None],
              reads: list[int], two_phase: bool) -> bool:
    def known(i: int, node: int, t: float, final: bool) -> bool:
        """Whether update i had reached `node` by time t (an operation's position)."""
        if at[i] >= t and not final:
            return False
        if ops[i][1] == node or final:
            return True
        a = arrive[i]
        return a is not None and a <= t

    live = sorted(at)
    tombs: dict[int, set[int]] = {}  # remove -> the adds it tombstoned (OR-set)
    for i in live:
        if ops[i][0] == "remove":
            tombs[i] = {a for a in live if ops[a][0] == "add" and known(a, ops[i][1], at[i], False)}
    for r in reads:
        node, final = ops[r][1], ops[r][0] == "final"
        adds = [a for a in live if ops[a][0] == "add" and known(a, node, r, final)]
        removes = [x for x in live if ops[x][0] == "remove" and known(x, node, r, final)]
        if two_phase:
            present = bool(adds) and not removes
        else:
            dead = set().union(*(tombs[x] for x in removes)) if removes else set()
            present = any(a not in dead for a in adds)
        if present != (0 in ops[r][3]):
            return False
    return True


def local_oracle(ops: list[tuple[str, int, str, Any]], two_phase: bool) -> Any:
    """Each read judged on its own (the final reads together): False when some read, or
    the final reads, no world explains."""
    reads = [i for i, op in enumerate(ops) if op[0] == "read" and op[2] == "ok"]
    finals = [i for i, op in enumerate(ops) if op[0] == "final" and op[2] == "ok"]
    verdicts = [oracle(ops, two_phase, only=[r]) for r in reads] + [oracle(ops, two_phase, only=finals)]
    return False if False in verdicts else verdicts[-1]


def generate(rng: random.Random) -> list[tuple[str, int, str, Any]]:
    ops: list[tuple[str, int, str, Any]] = []
    for _ in range(rng.randrange(1, 7)):
        kind = rng.choice(("add", "add", "remove", "read", "read", "read"))
        node = rng.randrange(NODES)
        if kind == "read":
            seen = rng.choice(([], [0], [0], [0, 0])) if rng.random() < 0.97 else [0, 0]
            ops.append(("read", node, "ok", seen))
        else:
            ops.append((kind, node, rng.choices(("ok", "info", "fail"), (8, 1, 1))[0], None))
    present = rng.random() < 0.5
    for node in range(NODES):
        outcome = "ok" if rng.random() < 0.95 else "info"
        seen = [0] if (present if rng.random() < 0.93 else not present) else []
        ops.append(("final", node, outcome, seen if outcome == "ok" else None))
    return ops


def history_of(ops: list[tuple[str, int, str, Any]]) -> list[dict[str, Any]]:
    """Each operation on a fresh process bound to its node (process % NODES), one after
    another; an info operation completes as info."""
    history: list[dict[str, Any]] = []
    for i, (kind, node, outcome, seen) in enumerate(ops):
        p = node + NODES * (i + 1)
        f = "read" if kind in ("read", "final") else kind
        extra = {"final": True, "node": f"n{node}"} if kind == "final" else {}
        for type_, value in (("invoke", None if f == "read" else 0),
                             (outcome, seen if f == "read" else 0)):
            history.append({"index": len(history), "time": len(history) * MS, "process": p, "type": type_,
                            "f": f, "value": value, **(extra if type_ == "invoke" else {})})
    return history


CASES = 1500


def _compare(check: Any, seed: int = 3) -> dict[str, int]:
    """Every verdict lies between the two oracles: never False where some world explains
    all the reads (sound), always False where some read alone has no world (each read
    judged exactly), else the local oracle's True or unknown."""
    rng = random.Random(seed)
    counts = {"valid": 0, "invalid": 0, "beyond_reach": 0}
    for i in range(CASES):
        two_phase = i % 2 == 1
        ops = generate(rng)
        full, local = oracle(ops, two_phase), local_oracle(ops, two_phase)
        got = check(history_of(ops), node_count=NODES, two_phase=two_phase)["valid"]
        if got is False:
            assert full is False, ("a history some world explains was judged invalid", two_phase, ops)
            counts["invalid"] += 1
        else:
            assert got == local, (two_phase, local, got, ops)
            counts["valid" if full is not False else "beyond_reach"] += 1
    return counts


def test_or_set_lies_between_the_possible_worlds_oracles() -> None:
    counts = _compare(or_set.check)
    assert counts["valid"] > 200 and counts["invalid"] > 800, counts
    # what needs several reads' evidence combined (which adds a remove saw, inferred from
    # reads on other nodes) stays out of reach: documented, and rare in these histories
    assert counts["beyond_reach"] <= 5, counts  # 12 before the read-evidence rules, 3 now


def _ops_history(*ops: tuple[str, int, str, Any]) -> list[dict[str, Any]]:
    return history_of(list(ops))


def test_an_element_a_node_held_cannot_vanish_there_without_a_remove() -> None:
    """Regression: n1 read 0, then lacked it with no remove anywhere (a replica that
    overwrote its state with a stale peer's); the finals had it back, and it passed."""
    ops = [("add", 0, "ok", None), ("read", 1, "ok", [0]), ("read", 1, "ok", []),
           ("final", 0, "ok", [0]), ("final", 1, "ok", [0])]
    for two_phase in (False, True):
        assert oracle(ops, two_phase) is False
        r = or_set.check(history_of(ops), node_count=NODES, two_phase=two_phase)
        assert r["valid"] is False and r["went_back"][0]["node"] == "n1"
        assert "(went back)" in r["explanation"]
    ops[2] = ("remove", 0, "ok", None)  # with a remove in between, it may go
    ops[3:] = [("read", 1, "ok", []), ("final", 0, "ok", []), ("final", 1, "ok", [])]
    assert or_set.check(history_of(ops), node_count=NODES)["valid"] is True


def test_a_two_phase_element_that_went_away_on_a_node_never_shows_there_again() -> None:
    """Regression: n1 held 0, lost it when n0's remove arrived, then held it again."""
    ops = [("add", 1, "ok", None), ("read", 1, "ok", [0]), ("remove", 0, "ok", None),
           ("read", 1, "ok", []), ("read", 1, "ok", [0]), ("final", 0, "ok", []), ("final", 1, "ok", [])]
    assert oracle(ops, True) is False
    r = or_set.check(history_of(ops), node_count=NODES, two_phase=True)
    assert r["valid"] is False and "holds it again" in r["explanation"]


def test_an_element_a_read_held_must_be_in_the_final_reads_when_nothing_removes_it() -> None:
    """Regression: a timed-out add that a read showed took effect; with no remove at all
    the final reads must hold it, and the checker (counting only acknowledged adds) passed."""
    ops = [("add", 0, "info", None), ("read", 1, "ok", [0]), ("final", 0, "ok", []), ("final", 1, "ok", [])]
    for two_phase in (False, True):
        assert oracle(ops, two_phase) is False
        r = or_set.check(history_of(ops), node_count=NODES, two_phase=two_phase)
        assert r["valid"] is False and r["missing"][0]["seen_on"] == "n1"


def test_what_a_read_held_after_its_nodes_removes_stays() -> None:
    """Regression: both removes ran on n1 and completed before n1's read showed 0 (added
    on n0 meanwhile): nothing can remove what that read saw, yet the finals were empty."""
    ops = [("remove", 1, "ok", None), ("add", 0, "ok", None), ("remove", 1, "ok", None), ("read", 1, "ok", [0]),
           ("final", 0, "ok", []), ("final", 1, "ok", [])]
    assert oracle(ops, False) is False
    r = or_set.check(history_of(ops), node_count=NODES)
    assert r["valid"] is False and "every remove of it had been applied on n1 before that read" in r["explanation"]
    ops[2] = ("remove", 0, "ok", None)  # a remove on n0 may have seen the add: the finals may be empty
    assert or_set.check(history_of(ops), node_count=NODES)["valid"] is True
