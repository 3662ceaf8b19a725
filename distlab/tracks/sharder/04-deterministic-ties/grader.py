"""Grades rebalance(shards, gids) for determinism: the same answer whatever order (or
container) the gids come in, and every time it is called, from balanced and unbalanced
starts (Move leaves a configuration unbalanced); each answer still balanced and minimal."""

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


def _same(fn: Callable[..., Any], what: str, shards: list[int], orders: list[list[int]]) -> None:
    first = kit.check_rebalance(fn, what, shards, orders[0], min_moves(shards, orders[0]))
    for order in orders[1:]:
        got = kit.check_rebalance(fn, what, shards, order, min_moves(shards, order))
        if got != first:
            raise Wrong(f"{what}: rebalance({shards}, {order}) gave {got} but rebalance({shards}, "
                        f"{orders[0]}) gave {first}: replicas that list the groups in different "
                        f"orders would disagree on the configuration")


def _orders(rng: random.Random, gids: list[int], k: int = 6) -> list[list[int]]:
    out = [sorted(gids), sorted(gids, reverse=True)]
    for _ in range(k):
        out.append(rng.sample(gids, len(gids)))
    return out


def gid_order(fn: Callable[..., Any], rng: random.Random) -> None:
    for _ in range(30):
        old = sorted(rng.sample(range(1, 20), rng.randrange(1, 5)))
        shards = rebalance([0] * 10, old)
        gids = old + sorted(rng.sample(range(20, 40), rng.randrange(1, 4)))
        _same(fn, f"join to groups {old}", shards, _orders(rng, gids))


def ties_in_size(fn: Callable[..., Any], rng: random.Random) -> None:
    # Equal holders: which of them keeps the extra shard is a tie every replica must break alike.
    for shards, gids in [([1] * 5 + [2] * 5, [1, 2, 3]), ([1, 2, 3, 4] * 2 + [1, 2], [1, 2, 3, 4, 5, 6]),
                         ([7, 7, 9, 9, 4, 4, 5, 5, 6, 6], [4, 5, 6, 7, 9, 11]), ([0] * 10, [30, 10, 20])]:
        _same(fn, f"rebalance of {shards} over {sorted(gids)}", shards, _orders(rng, gids, 10))


def after_moves(fn: Callable[..., Any], rng: random.Random) -> None:
    for _ in range(30):
        gids = sorted(rng.sample(range(1, 15), rng.randrange(2, 6)))
        shards = rebalance([0] * 10, gids)
        for _ in range(rng.randrange(1, 5)):  # Move: any shard to any group, no rebalancing
            shards[rng.randrange(10)] = rng.choice(gids)
        more = gids + [100 + rng.randrange(5)]
        _same(fn, f"join after moves left {shards}", shards, _orders(rng, more))


def repeated(fn: Callable[..., Any], rng: random.Random) -> None:
    shards = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    gids = [1, 2, 3, 4, 5, 6, 7]
    _same(fn, "the same join called 20 times", shards, [list(gids) for _ in range(20)])


SCENARIOS: dict[str, Callable[[Callable[..., Any], random.Random], None]] = {
    "the same answer whatever the order of gids": gid_order,
    "ties between groups of equal size": ties_in_size,
    "unbalanced starts (after Move)": after_moves,
    "the same answer every call": repeated,
}


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    try:
        SCENARIOS[name](target, random.Random(seed))  # type: ignore[arg-type]
    except Wrong as exc:
        return str(exc)
    return None
