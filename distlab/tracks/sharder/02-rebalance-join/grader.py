"""Grades rebalance(shards, gids) after joins: balanced (max <= min + 1), every shard on a
group of the configuration, and exactly the fewest moves (brute force on small cases,
distlab's closed form, itself tested against brute force, on 10 shards)."""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distlab.systems.shardctrler.rebalance import min_moves, rebalance


def _kit() -> Any:
    spec = importlib.util.spec_from_file_location("_sharder_kit", Path(__file__).resolve().parent.parent / "kit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kit = _kit()
Wrong = kit.Wrong


def first_join(fn: Callable[..., Any], rng: random.Random) -> None:
    kit.check_rebalance(fn, "the first join (group 1)", [0] * 10, [1], 10)
    kit.check_rebalance(fn, "the first join (groups 1, 2, 3)", [0] * 10, [1, 2, 3], 10)


def joins_one_by_one(fn: Callable[..., Any], rng: random.Random) -> None:
    shards = [0] * 10
    gids: list[int] = []
    for g in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]:
        gids.append(g)
        shards = kit.check_rebalance(fn, f"join of group {g}", shards, list(gids), min_moves(shards, gids))


def smaller_gids_join(fn: Callable[..., Any], rng: random.Random) -> None:
    """The extra shard of an uneven split goes to the groups that hold the most already,
    whatever their gids: a group joining with a smaller gid than the others gets none."""
    shards = [0] * 10
    gids: list[int] = []
    for g in [12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]:
        gids.append(g)
        shards = kit.check_rebalance(fn, f"join of group {g} (to groups {sorted(gids[:-1])})",
                                     shards, list(gids), min_moves(shards, gids))
    for _ in range(40):
        old = sorted(rng.sample(range(30, 60), rng.randrange(1, 5)))
        shards = rebalance([0] * 10, old)
        new = sorted(rng.sample(range(1, 30), rng.randrange(1, 4)))
        kit.check_rebalance(fn, f"join of {new} to groups {old}", shards, old + new,
                            min_moves(shards, old + new))


def joins_together(fn: Callable[..., Any], rng: random.Random) -> None:
    for _ in range(40):
        old = sorted(rng.sample(range(1, 30), rng.randrange(1, 5)))
        shards = rebalance([0] * 10, old)
        new = sorted(rng.sample([g for g in range(30, 60)], rng.randrange(1, 4)))
        what = f"join of group{'s' if len(new) > 1 else ''} {', '.join(map(str, new))}"
        kit.check_rebalance(fn, what, shards, old + new, min_moves(shards, old + new))


def brute_force(fn: Callable[..., Any], rng: random.Random) -> None:
    for _ in range(60):
        n = rng.randrange(1, 7)
        old = sorted(rng.sample(range(1, 6), rng.randrange(1, 3)))
        shards = rebalance([0] * n, old)
        new = [g for g in range(6, 6 + rng.randrange(1, 3))]
        what = f"join of {new} to {shards} ({n} shards)"
        kit.check_rebalance(fn, what, shards, old + new, kit.brute_min_moves(shards, old + new))


SCENARIOS: dict[str, Callable[[Callable[..., Any], random.Random], None]] = {
    "the first join takes every shard from group 0": first_join,
    "twelve joins one by one": joins_one_by_one,
    "several groups joining at once": joins_together,
    "groups with smaller gids joining": smaller_gids_join,
    "small cases against brute force": brute_force,
}


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    try:
        SCENARIOS[name](target, random.Random(seed))  # type: ignore[arg-type]
    except Wrong as exc:
        return str(exc)
    return None
