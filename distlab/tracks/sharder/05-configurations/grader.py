"""Grades the controller's state machine: configuration 0, numbered configurations per
Join/Leave/Move, Move without rebalancing, query of -1 and of numbers past the latest, and
history that later commands never change (the aliasing bug of copying a map by reference)."""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distlab.systems.shardctrler.rebalance import balanced


def _kit() -> Any:
    spec = importlib.util.spec_from_file_location("_sharder_kit", Path(__file__).resolve().parent.parent / "kit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kit = _kit()
Wrong = kit.Wrong
SERVERS = {g: [f"g{g}-{i}" for i in range(3)] for g in range(1, 40)}


def show(c: dict[str, Any]) -> str:
    return f"configuration {c['num']} (shards {c['shards']}, groups {sorted(c['groups'])})"


class Driver:
    """Calls the learner's Controller and reads its configurations back in one shape."""

    def __init__(self, cls: Callable[[], Any]) -> None:
        self.ctl = kit.call("Controller()", cls)
        self.done: list[str] = []

    def query(self, num: int) -> dict[str, Any]:
        what = f"query({num})" + (f" after {', '.join(self.done[-3:])}" if self.done else "")
        got = kit.call(what, self.ctl.query, num)
        try:
            return {"num": int(got["num"]), "shards": [int(g) for g in got["shards"]],
                    "groups": {int(g): list(s) for g, s in got["groups"].items()}}
        except (KeyError, TypeError, ValueError, AttributeError):
            raise Wrong(f"{what} returned {got!r}; expected a dict with num, shards and groups") from None

    def do(self, op: str, *args: Any) -> dict[str, Any]:
        what = f"{op}({', '.join(map(repr, args))})"
        before = self.query(-1)
        kit.call(what, getattr(self.ctl, op), *args)
        self.done.append(what)
        after = self.query(-1)
        if after["num"] != before["num"] + 1:
            raise Wrong(f"after {what}, query(-1) answered configuration {after['num']}; expected "
                        f"{before['num'] + 1} (each Join, Leave and Move makes one new configuration)")
        if op != "move" and not balanced(after["shards"], after["groups"]):
            raise Wrong(f"after {what}, {show(after)} is not balanced over its groups")
        return after


def config_zero(cls: Callable[[], Any], rng: random.Random) -> None:
    d = Driver(cls)
    for num in (0, -1):
        c = d.query(num)
        if c != {"num": 0, "shards": [0] * 10, "groups": {}}:
            raise Wrong(f"query({num}) of a new controller answered {show(c)}; expected configuration 0: "
                        f"no groups, every shard on group 0")


def join_leave(cls: Callable[[], Any], rng: random.Random) -> None:
    d = Driver(cls)
    c = d.do("join", {1: SERVERS[1]})
    if c["shards"] != [1] * 10 or c["groups"] != {1: SERVERS[1]}:
        raise Wrong(f"after join({{1: {SERVERS[1]}}}), query(-1) answered {show(c)}; expected every "
                    f"shard on group 1, and group 1's servers")
    d.do("join", {2: SERVERS[2], 3: SERVERS[3]})
    c = d.do("leave", [1])
    if 1 in c["groups"] or c["groups"] != {2: SERVERS[2], 3: SERVERS[3]}:
        raise Wrong(f"after leave([1]) the groups are {c['groups']}; expected groups 2 and 3 only")
    c = d.do("leave", [2, 3])
    if c["shards"] != [0] * 10 or c["groups"]:
        raise Wrong(f"after every group left, query(-1) answered {show(c)}; expected every shard on group 0")


def history(cls: Callable[[], Any], rng: random.Random) -> None:
    d = Driver(cls)
    seen = [d.query(0)]
    live: list[int] = []
    for _ in range(25):
        r = rng.random()
        if not live or (r < 0.5 and len(live) < 8):
            g = rng.choice([g for g in SERVERS if g not in live])
            live.append(g)
            seen.append(d.do("join", {g: SERVERS[g]}))
        elif r < 0.8:
            g = rng.choice(live)
            live.remove(g)
            seen.append(d.do("leave", [g]))
        else:
            # a move that changes something: to a group other than the shard's owner
            shard = rng.randrange(10)
            others = [g for g in live if g != seen[-1]["shards"][shard]]
            if others:
                seen.append(d.do("move", shard, rng.choice(others)))
    for want in seen:
        got = d.query(want["num"])
        if got != want:
            raise Wrong(f"query({want['num']}) after {len(seen) - 1} commands answered {show(got)}, but "
                        f"right after it was made it was {show(want)}: a later command changed an old "
                        f"configuration (copy the groups and shards, do not share them)")


def move(cls: Callable[[], Any], rng: random.Random) -> None:
    d = Driver(cls)
    d.do("join", {1: SERVERS[1], 2: SERVERS[2], 3: SERVERS[3]})
    for shard, gid in [(0, 3), (1, 3), (2, 3), (9, 1), (5, 2)]:
        before = d.query(-1)
        after = d.do("move", shard, gid)
        want = list(before["shards"])
        want[shard] = gid
        if after["shards"] != want:
            raise Wrong(f"move({shard}, {gid}) turned shards {before['shards']} into {after['shards']}; "
                        f"expected {want}: a Move puts that one shard on that group and changes nothing else")


def past_latest(cls: Callable[[], Any], rng: random.Random) -> None:
    d = Driver(cls)
    d.do("join", {1: SERVERS[1]})
    d.do("join", {2: SERVERS[2]})
    latest = d.query(-1)
    for num in (3, 99):
        got = d.query(num)
        if got != latest:
            raise Wrong(f"query({num}) with configuration {latest['num']} the latest answered {show(got)}; "
                        f"expected the latest")


SCENARIOS: dict[str, Callable[[Callable[[], Any], random.Random], None]] = {
    "configuration 0": config_zero,
    "joins and leaves": join_leave,
    "move changes one shard": move,
    "query past the latest answers the latest": past_latest,
    "old configurations never change": history,
}


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    try:
        SCENARIOS[name](target, random.Random(seed))  # type: ignore[arg-type]
    except Wrong as exc:
        return str(exc)
    return None
