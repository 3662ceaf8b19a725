"""Grades rebalance(shards, gids) after leaves: the departed groups' shards all go to the
groups that remain, sizes within one, the fewest moves (a leave should only move the
departed groups' shards, plus what balance needs); no groups left: everything on 0."""

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


def _leave(fn: Callable[..., Any], shards: list[int], gids: list[int], gone: list[int], fewest: int) -> list[int]:
    rest = [g for g in gids if g not in gone]
    what = f"leave of group{'s' if len(gone) > 1 else ''} {', '.join(map(str, gone))}"
    return kit.check_rebalance(fn, what, shards, rest, fewest)


def leaves_one_by_one(fn: Callable[..., Any], rng: random.Random) -> None:
    gids = list(range(1, 13))
    shards = rebalance([0] * 10, gids)
    while gids:
        gone = gids[len(gids) // 2]
        rest = [g for g in gids if g != gone]
        shards = _leave(fn, shards, gids, [gone], min_moves(shards, rest))
        gids = rest


def leaves_together(fn: Callable[..., Any], rng: random.Random) -> None:
    for _ in range(40):
        gids = sorted(rng.sample(range(1, 30), rng.randrange(2, 8)))
        shards = rebalance([0] * 10, gids)
        gone = sorted(rng.sample(gids, rng.randrange(1, len(gids))))
        _leave(fn, shards, gids, gone, min_moves(shards, [g for g in gids if g not in gone]))


def everyone_leaves(fn: Callable[..., Any], rng: random.Random) -> None:
    gids = [3, 5, 8]
    _leave(fn, rebalance([0] * 10, gids), gids, gids, 10)


def brute_force(fn: Callable[..., Any], rng: random.Random) -> None:
    for _ in range(60):
        n = rng.randrange(1, 7)
        gids = sorted(rng.sample(range(1, 8), rng.randrange(2, 5)))
        shards = rebalance([0] * n, gids)
        gone = sorted(rng.sample(gids, rng.randrange(1, len(gids))))
        rest = [g for g in gids if g not in gone]
        _leave(fn, shards, gids, gone, kit.brute_min_moves(shards, rest))


def any_start(fn: Callable[..., Any], rng: random.Random) -> None:
    """From any assignment (Moves leave the controller's shards anywhere, so the groups
    holding the most need not be the smallest gids), against brute force."""
    for _ in range(60):
        n = rng.randrange(1, 7)
        gids = sorted(rng.sample(range(1, 8), rng.randrange(2, 5)))
        shards = [rng.choice(gids) for _ in range(n)]
        gone = sorted(rng.sample(gids, rng.randrange(1, len(gids))))
        rest = [g for g in gids if g not in gone]
        _leave(fn, shards, gids, gone, kit.brute_min_moves(shards, rest))


SCENARIOS: dict[str, Callable[[Callable[..., Any], random.Random], None]] = {
    "twelve groups leaving one by one": leaves_one_by_one,
    "several groups leaving at once": leaves_together,
    "every group leaves: all shards on group 0": everyone_leaves,
    "small cases against brute force": brute_force,
    "small cases from any assignment against brute force": any_start,
}


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    try:
        SCENARIOS[name](target, random.Random(seed))  # type: ignore[arg-type]
    except Wrong as exc:
        return str(exc)
    return None
