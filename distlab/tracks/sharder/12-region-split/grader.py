"""Grades split_keys (exactly, against the rule in the statement) and split (the pieces
tile the region, the original keeps the leftmost, versions bump by the number of new
regions, conf_ver unchanged, keys outside the region refused)."""

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


def want_keys(entries: list[tuple[bytes, int]], max_size: int, split_size: int) -> list[bytes]:
    if sum(size for _, size in entries) <= max_size:
        return []
    keys, acc = [], 0
    for key, size in entries:
        if acc >= split_size:
            keys.append(key)
            acc = 0
        acc += size
    return keys


def _entries(rng: random.Random, n: int) -> list[tuple[bytes, int]]:
    keys = sorted({f"k{rng.randrange(10**6):06d}".encode() for _ in range(n)})
    return [(k, rng.randrange(1, 40)) for k in keys]


def show(entries: list[tuple[bytes, int]]) -> str:
    if len(entries) <= 6:
        return "[" + ", ".join(f"{k.decode()}:{s}" for k, s in entries) + "]"
    return f"{len(entries)} keys totalling {sum(s for _, s in entries)} bytes"


def _keys(fns: dict[str, Callable[..., Any]], entries: list[tuple[bytes, int]], mx: int, sp: int) -> None:
    what = f"split_keys({show(entries)}, max_size={mx}, split_size={sp})"
    got = kit.call(what, fns["split_keys"], list(entries), mx, sp)
    want = want_keys(entries, mx, sp)
    if not isinstance(got, list) or [bytes(k) for k in got] != want:
        sizes = {k: s for k, s in entries}
        detail = ""
        if isinstance(got, list) and got and want:
            first = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if bytes(a) != b),
                         min(len(got), len(want)))
            if first < min(len(got), len(want)):
                detail = (f" (first difference: {bytes(got[first]).decode()} where {want[first].decode()}"
                          f" is the first key reached once the piece holds {sp} bytes or more;"
                          f" {want[first].decode()} itself holds {sizes[want[first]]})")
        raise Wrong(f"{what} returned {got!r}; expected {want!r}{detail}")


def small_regions(fns: dict[str, Callable[..., Any]], rng: random.Random) -> None:
    _keys(fns, [], 100, 60)
    _keys(fns, [(b"a", 50), (b"b", 50)], 100, 60)
    for _ in range(20):
        e = _entries(rng, 8)
        _keys(fns, e, sum(s for _, s in e), 10)


def cut_points(fns: dict[str, Callable[..., Any]], rng: random.Random) -> None:
    _keys(fns, [(b"a", 30), (b"b", 30), (b"c", 30), (b"d", 30)], 100, 60)
    _keys(fns, [(b"a", 60), (b"b", 1), (b"c", 70), (b"d", 1)], 100, 60)
    for _ in range(60):
        e = _entries(rng, rng.randrange(2, 60))
        sp = rng.randrange(20, 200)
        _keys(fns, e, rng.randrange(sp, sp * 2), sp)


def _region(fns: dict[str, Callable[..., Any]], *args: Any) -> Any:
    return kit.call(f"Region{args}", fns["Region"], *args)


def _split(fns: dict[str, Callable[..., Any]], region: Any, keys: list[bytes], ids: list[int]) -> list[Any]:
    what = f"split({region}, {keys}, {ids})"
    got = kit.call(what, fns["split"], region, list(keys), list(ids))
    if not isinstance(got, list) or len(got) != len(keys) + 1:
        raise Wrong(f"{what} returned {got!r}; expected {len(keys) + 1} regions")
    bounds = [region.start, *keys, region.end]
    ids_want = [region.id, *ids]
    for i, r in enumerate(got):
        if (r.start, r.end) != (bounds[i], bounds[i + 1]):
            raise Wrong(f"{what}: piece {i} covers [{r.start!r}, {r.end!r}); expected [{bounds[i]!r}, "
                        f"{bounds[i + 1]!r}): the pieces must tile the region in key order")
        if r.id != ids_want[i]:
            raise Wrong(f"{what}: the piece [{r.start!r}, {r.end!r}) has id {r.id}; expected {ids_want[i]} "
                        f"(the original region keeps the leftmost piece, new ids go left to right)")
        if r.version != region.version + len(keys):
            raise Wrong(f"{what}: region {r.id} has version {r.version}; expected {region.version + len(keys)} "
                        f"(the old version plus the number of new regions), so that anything carrying "
                        f"an epoch from before the split is seen to be stale")
        if r.conf_ver != region.conf_ver:
            raise Wrong(f"{what}: region {r.id} has conf_ver {r.conf_ver}; expected {region.conf_ver} "
                        f"(a split does not change membership)")
    return got


def pieces(fns: dict[str, Callable[..., Any]], rng: random.Random) -> None:
    _split(fns, _region(fns, 1, b"", b"", 1, 1), [b"m"], [2])
    _split(fns, _region(fns, 7, b"b", b"x", 5, 3), [b"c", b"k", b"t"], [8, 9, 10])
    for _ in range(20):
        lo, hi = sorted(rng.sample(range(1000), 2))
        keys = [f"{k:04d}".encode() for k in sorted(rng.sample(range(lo + 1, hi + 1), min(hi - lo, rng.randrange(1, 5))))]
        region = _region(fns, rng.randrange(1, 100), f"{lo:04d}".encode(), f"{hi + 1:04d}".encode(),
                         rng.randrange(1, 9), rng.randrange(1, 9))
        _split(fns, region, keys, [200 + i for i in range(len(keys))])


def refused(fns: dict[str, Callable[..., Any]], rng: random.Random) -> None:
    region = _region(fns, 3, b"c", b"m", 4, 2)
    for keys in ([b"a"], [b"c"], [b"m"], [b"z"], [b"f", b"e"], [b"f", b"f"]):
        what = f"split({region}, {keys}, ...)"
        try:
            fns["split"](region, list(keys), [10 + i for i in range(len(keys))])
        except ValueError:
            continue
        except Exception as exc:  # noqa: BLE001 - the learner's bug, as a sentence
            raise Wrong(kit.raised(what, exc) + "; expected ValueError") from None
        raise Wrong(f"{what} did not raise ValueError: split keys must be strictly inside "
                    f"[{region.start!r}, {region.end!r}) and increasing (TiKV refuses them)")


SCENARIOS: dict[str, Callable[[dict[str, Callable[..., Any]], random.Random], None]] = {
    "regions up to max_size are not split": small_regions,
    "split keys every split_size bytes": cut_points,
    "pieces, ids and epochs after a split": pieces,
    "split keys outside the region are refused": refused,
}


def _fns(target: Any) -> dict[str, Callable[..., Any]]:
    return {"split_keys": target, "split": kit.sibling(target, "split"),
            "Region": kit.sibling(target, "Region")}


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    try:
        SCENARIOS[name](_fns(target), random.Random(seed))
    except Wrong as exc:
        return str(exc)
    return None
