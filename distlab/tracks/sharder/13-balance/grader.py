"""Grades balance(stores, regions) against the deterministic balance-region rule of the
statement: a move the learner returns is first checked for the rule it breaks (down
target, a target already holding a peer, a gap not more than twice the region's size),
then compared with the one the rule picks; None where a move exists is explained too."""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _kit() -> Any:
    spec = importlib.util.spec_from_file_location("_sharder_kit", Path(__file__).resolve().parent.parent / "kit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kit = _kit()
Wrong = kit.Wrong


def want(stores: list[Any], regions: list[Any], max_replicas: int = 3) -> tuple[int, int, int] | None:
    up = sorted((s for s in stores if s.up), key=lambda s: (-s.region_size, s.id))
    for source in up:
        for region in sorted(regions, key=lambda r: r.id):
            if source.id not in region.peers or len(region.peers) < max_replicas:
                continue
            targets = [s for s in up if s.id not in region.peers]
            if targets:
                target = min(targets, key=lambda s: (s.region_size, s.id))
                if source.region_size - target.region_size > 2 * region.size:
                    return (region.id, source.id, target.id)
    return None


def describe(stores: list[Any]) -> str:
    return ", ".join(f"store {s.id}{'' if s.up else ' (down)'}: {s.region_size}" for s in stores)


class Cluster:
    def __init__(self, fns: dict[str, Callable[..., Any]], stores: list[tuple[int, bool, int]],
                 regions: list[tuple[int, int, tuple[int, ...]]]) -> None:
        self.stores = [kit.call("Store(...)", fns["Store"], *s) for s in stores]
        self.regions = [kit.call("RegionInfo(...)", fns["RegionInfo"], *r) for r in regions]

    def check(self, fn: Callable[..., Any]) -> None:
        what = f"balance with {describe(self.stores)}"
        got = kit.call(what, fn, list(self.stores), list(self.regions))
        expected = want(self.stores, self.regions)
        if got is not None:
            try:
                rid, src, dst = (int(x) for x in got)
            except (TypeError, ValueError):
                raise Wrong(f"{what} returned {got!r}; expected (region id, from store, to store) or None") from None
            store = {s.id: s for s in self.stores}
            region = {r.id: r for r in self.regions}.get(rid)
            if region is None or src not in store or dst not in store or src not in region.peers:
                raise Wrong(f"{what} returned {got!r}, which names no replica of an existing region "
                            f"on an existing store")
            if not store[dst].up:
                raise Wrong(f"{what} moved region {rid} to store {dst}, which is down")
            if dst in region.peers:
                raise Wrong(f"{what} moved region {rid} to store {dst}, which already holds a peer of it "
                            f"(peers on stores {list(region.peers)})")
            gap = store[src].region_size - store[dst].region_size
            if gap <= 2 * region.size:
                raise Wrong(f"{what} moved region {rid} (size {region.size}) from store {src} to store {dst}: "
                            f"the gap, {gap}, is not more than twice the region's size ({2 * region.size}), so "
                            f"store {dst} would end up the larger and the region would move straight back")
        if (got is None and expected is None) or (got is not None and tuple(int(x) for x in got) == expected):
            return
        if expected is None:
            raise Wrong(f"{what} returned {got!r}; expected None: no region can move under the rule")
        rid, src, dst = expected
        raise Wrong(f"{what} returned {got!r}; expected {expected}: store {src} is the largest store with "
                    f"a region that can move, region {rid} is its lowest-numbered such region, and store "
                    f"{dst} the smallest up store without a peer of it")


def simple(fns: dict[str, Callable[..., Any]], rng: random.Random) -> None:
    Cluster(fns, [(1, True, 300), (2, True, 200), (3, True, 200), (4, True, 100)],
            [(10, 40, (1, 2, 3))]).check(fns["balance"])
    Cluster(fns, [(1, True, 300), (2, True, 200), (3, True, 200), (4, True, 250)],
            [(10, 40, (1, 2, 3))]).check(fns["balance"])
    Cluster(fns, [(1, True, 100), (2, True, 100), (3, True, 100)], [(10, 30, (1, 2, 3))]).check(fns["balance"])


def twice(fns: dict[str, Callable[..., Any]], rng: random.Random) -> None:
    for gap in (59, 60, 61, 79, 80, 81):
        Cluster(fns, [(1, True, 200 + gap), (2, True, 220), (3, True, 220), (4, True, 200)],
                [(10, 40, (1, 2, 3))]).check(fns["balance"])


def peers_and_down(fns: dict[str, Callable[..., Any]], rng: random.Random) -> None:
    Cluster(fns, [(1, True, 500), (2, True, 300), (3, True, 300), (4, False, 0), (5, True, 100)],
            [(10, 20, (1, 2, 3))]).check(fns["balance"])
    Cluster(fns, [(1, True, 500), (2, True, 10), (3, True, 300), (4, True, 300), (5, True, 200)],
            [(10, 20, (1, 2, 3)), (11, 20, (1, 3, 4))]).check(fns["balance"])
    Cluster(fns, [(1, True, 500), (2, True, 300), (3, True, 300), (4, True, 100)],
            [(10, 20, (1, 2)), (11, 30, (1, 2, 3))]).check(fns["balance"])


def next_source(fns: dict[str, Callable[..., Any]], rng: random.Random) -> None:
    """The largest store may have nothing to move (its regions are being repaired, or too
    big for the gap): the next largest is tried, and so on."""
    Cluster(fns, [(1, True, 500), (2, True, 400), (3, True, 300), (4, True, 50), (5, True, 200)],
            [(10, 100, (1, 2)), (11, 40, (2, 3, 5))]).check(fns["balance"])
    Cluster(fns, [(1, True, 500), (2, True, 450), (3, True, 400), (4, True, 100), (5, True, 300)],
            [(10, 250, (1, 2, 3)), (11, 20, (2, 3, 5))]).check(fns["balance"])


def seeded(fns: dict[str, Callable[..., Any]], rng: random.Random) -> None:
    for _ in range(150):
        n = rng.randrange(3, 7)
        regions = []
        for rid in range(1, rng.randrange(2, 9)):
            k = 3 if rng.random() < 0.85 else 2
            regions.append((rid, rng.randrange(5, 60), tuple(sorted(rng.sample(range(1, n + 1), k)))))
        sizes = {s: sum(size for _, size, peers in regions if s in peers) for s in range(1, n + 1)}
        stores = [(s, rng.random() > 0.15, sizes[s]) for s in range(1, n + 1)]
        Cluster(fns, stores, regions).check(fns["balance"])


SCENARIOS: dict[str, Callable[[dict[str, Callable[..., Any]], random.Random], None]] = {
    "largest store to smallest": simple,
    "only when the gap is more than twice the region": twice,
    "never to a store that is down or already holds a peer": peers_and_down,
    "the largest store has nothing to move: the next one is tried": next_source,
    "150 seeded clusters": seeded,
}


def _fns(target: Any) -> dict[str, Callable[..., Any]]:
    return {"balance": target, "Store": kit.sibling(target, "Store"),
            "RegionInfo": kit.sibling(target, "RegionInfo")}


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    try:
        SCENARIOS[name](_fns(target), random.Random(seed))
    except Wrong as exc:
        return str(exc)
    return None
