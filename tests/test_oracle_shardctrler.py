"""The shard controller's history checker against a replay oracle, on seeded sequential
histories in which every configuration is queried, made by the controller and then
sometimes broken.

With one clerk and a query(-1) after each operation, the order of the operations and
every configuration are known, so the oracle replays the operations: each answer must
be the configuration asked for (or the latest), groups exactly as the operations make
them, a move exactly its one shard, and a join or leave any balanced assignment with the
fewest moves (counted here by brute force over all assignments, not by `min_moves`).
"""

from __future__ import annotations

import copy
import itertools
import random
from collections import Counter
from typing import Any

from distlab.systems.shardctrler.checker import check_history
from distlab.systems.shardctrler.rebalance import Controller, to_wire

NSHARDS = 4
MS = 1_000_000


def _fewest_moves(before: list[int], gids: list[int]) -> int:
    """Over every assignment of the shards to the groups that is balanced."""
    if not gids:
        return sum(g != 0 for g in before)
    best = len(before)
    for shards in itertools.product(gids, repeat=len(before)):
        sizes = Counter(shards)
        if max(sizes[g] for g in gids) <= min(sizes[g] for g in gids) + 1:
            best = min(best, sum(a != b for a, b in zip(before, shards, strict=True)))
    return best


def oracle(ops: list[tuple[str, dict[str, Any]]], answers: list[tuple[int, int, dict[str, Any]]]) -> bool:
    """ops: the mutating operations in order; answers: (operations done before the query,
    number asked, configuration answered)."""
    groups: list[dict[int, list[str]]] = [{}]
    for f, value in ops:
        g = copy.deepcopy(groups[-1])
        if f == "join":
            g.update({int(k): list(v) for k, v in value["groups"].items()})
        elif f == "leave":
            for k in value["gids"]:
                g.pop(int(k), None)
        groups.append(g)
    shards: dict[int, list[int]] = {}
    for done, asked, config in answers:
        want = done if asked < 0 else min(asked, done)
        if config["num"] != want or {int(k): v for k, v in config["groups"].items()} != groups[want]:
            return False
        if shards.setdefault(want, config["shards"]) != config["shards"]:
            return False
    if shards.get(0) not in (None, [0] * NSHARDS):
        return False
    for j in range(1, len(ops) + 1):
        if j not in shards or j - 1 not in shards:
            continue
        f, value = ops[j - 1]
        before, after = shards[j - 1], shards[j]
        if f == "move":
            moved = list(before)
            moved[value["shard"]] = value["gid"]
            if after != moved:
                return False
        else:
            gids = sorted(groups[j])
            sizes = Counter(after)
            if (gids and (any(s not in gids for s in after) or max(sizes[g] for g in gids)
                          > min(sizes[g] for g in gids) + 1)) or (not gids and any(after)):
                return False
            if sum(a != b for a, b in zip(before, after, strict=True)) != _fewest_moves(before, gids):
                return False
    return True


def generate(rng: random.Random) -> tuple[list[dict[str, Any]], list[tuple[str, dict[str, Any]]],
                                          list[tuple[int, int, dict[str, Any]]]]:
    mutant = rng.choice(("", "", "", "rebuild", "random-ties"))
    ctl = Controller(nshards=NSHARDS, mutant=mutant, rng=random.Random(rng.random()))
    history: list[dict[str, Any]] = []
    ops: list[tuple[str, dict[str, Any]]] = []
    answers: list[tuple[int, int, dict[str, Any]]] = []
    next_gid = 1
    broken = rng.random() < 0.55

    def call(f: str, value: Any, reply: Any) -> None:
        for type_, v in (("invoke", value), ("ok", reply)):
            history.append({"index": len(history), "time": len(history) * MS, "process": 0, "type": type_,
                            "f": f, "value": v})

    def query(asked: int) -> None:
        config = to_wire(ctl.query(asked))
        if broken and rng.random() < 0.25:
            config = copy.deepcopy(config)
            how = rng.randrange(5)
            if how == 0 and config["groups"]:
                gid = rng.choice(sorted(config["groups"]))
                config["groups"][str(int(gid) + 10)] = config["groups"].pop(gid)
                config["shards"] = [s + 10 if str(s) == gid else s for s in config["shards"]]
            elif how == 1 and config["num"] > 0:
                config["shards"] = to_wire(ctl.query(config["num"] - 1))["shards"]  # the change not made
            elif how == 2 and config["groups"]:
                config["shards"][rng.randrange(NSHARDS)] = int(rng.choice(sorted(config["groups"])))
            elif how == 3:
                config["num"] += rng.choice((-1, 1))
            elif how == 4 and len(config["groups"]) > 1:
                a, b = rng.sample(range(NSHARDS), 2)
                config["shards"][a], config["shards"][b] = config["shards"][b], config["shards"][a]
        answers.append((len(ops), asked, config))
        call("query", {"num": asked}, {"num": asked, "config": config})

    query(-1)
    for _ in range(rng.randrange(1, 6)):
        gids = sorted(ctl.latest()["groups"])
        kind = rng.random()
        if kind < 0.45 or not gids:
            value: dict[str, Any] = {"groups": {str(next_gid + k): [f"s{next_gid + k}"]
                                                for k in range(rng.randrange(1, 3))}}
            next_gid += 3
            f = "join"
        elif kind < 0.75:
            value = {"gids": rng.sample(gids, rng.randrange(1, len(gids) + 1))}
            f = "leave"
        else:
            value = {"shard": rng.randrange(NSHARDS), "gid": rng.choice(gids)}
            f = "move"
        ctl.apply({"op": f, **value})
        ops.append((f, value))
        call(f, value, {"type": f"{f}_ok"})
        query(-1)
        if rng.random() < 0.3:
            query(rng.randrange(0, len(ops) + 2))
    return history, ops, answers


CASES = 1500


def _compare(check: Any, seed: int = 10) -> dict[bool, int]:
    rng = random.Random(seed)
    verdicts = {True: 0, False: 0}
    for _ in range(CASES):
        history, ops, answers = generate(rng)
        want = oracle(ops, answers)
        got = check(history, nshards=NSHARDS)
        assert got["valid"] is want, (want, got.get("explanation"), ops, answers)
        verdicts[want] += 1
    return verdicts


def test_shardctrler_checker_agrees_with_the_replay_oracle() -> None:
    verdicts = _compare(check_history)
    assert min(verdicts.values()) > 200, verdicts


def test_a_configuration_no_operation_makes_is_caught() -> None:
    """Regression: a join of group 1 answered with group 7 holding every shard, and a move
    that changed nothing: both passed (balanced, numbered right, replicas agreeing)."""
    def h(*recs: tuple[str, Any, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for f, value, reply in recs:
            for type_, v in (("invoke", value), ("ok", reply)):
                out.append({"index": len(out), "time": len(out) * MS, "process": 0, "type": type_, "f": f, "value": v})
        return out

    zero = {"num": 0, "shards": [0] * NSHARDS, "groups": {}}
    one = {"num": 1, "shards": [1] * NSHARDS, "groups": {"1": ["x"]}}
    join = ("join", {"groups": {"1": ["x"]}}, {"type": "join_ok"})
    good = h(("query", {"num": -1}, {"num": -1, "config": zero}), join, ("query", {"num": -1}, {"num": -1, "config": one}))
    assert check_history(good, nshards=NSHARDS)["valid"] is True
    wrong = {"num": 1, "shards": [7] * NSHARDS, "groups": {"7": ["q"]}}
    r = check_history(h(("query", {"num": -1}, {"num": -1, "config": zero}), join,
                        ("query", {"num": -1}, {"num": -1, "config": wrong})), nshards=NSHARDS)
    assert r["valid"] is False and "is not what any join, leave or move sent makes" in r["explanation"]
    ignored = h(("query", {"num": -1}, {"num": -1, "config": zero}), join,
                ("query", {"num": -1}, {"num": -1, "config": one}),
                ("move", {"shard": 0, "gid": 1}, {"type": "move_ok"}),
                ("query", {"num": -1}, {"num": -1, "config": {**one, "num": 2, "shards": [1] * NSHARDS}}))
    assert check_history(ignored, nshards=NSHARDS)["valid"] is True  # moving shard 0 to its owner changes nothing
    ignored[-4]["value"] = ignored[-3]["value"] = {"shard": 0, "gid": 2}
    assert check_history(ignored, nshards=NSHARDS)["valid"] is False
