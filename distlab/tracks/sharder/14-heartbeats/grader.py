"""Grades RegionTable.heartbeat against TinyKV's rule: a report older (in version or in
conf_ver) than the region of its id, or than any region its range overlaps, is refused
and changes nothing; any other replaces its id and the regions it overlaps."""

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
R = tuple[int, bytes, bytes, int, int]  # id, start, end, version, conf_ver


def show(r: R) -> str:
    rid, start, end, v, c = r
    return f"region {rid} [{start.decode() or '-inf'}, {end.decode() or '+inf'}) v{v} c{c}"


def _overlaps(a: R, b: R) -> bool:
    return (not a[2] or b[1] < a[2]) and (not b[2] or a[1] < b[2])


def _stale(r: R, k: R) -> bool:
    return r[3] < k[3] or r[4] < k[4]


class Model:
    """The rule, on tuples: what the table must hold and answer."""

    def __init__(self) -> None:
        self.by_id: dict[int, R] = {}

    def heartbeat(self, r: R) -> tuple[bool, str]:
        known = self.by_id.get(r[0])
        if known is not None and _stale(r, known):
            return False, f"the table has {show(known)}, newer"
        others = [k for k in self.by_id.values() if k[0] != r[0] and _overlaps(k, r)]
        newer = [k for k in others if _stale(r, k)]
        if newer:
            return False, f"it overlaps {show(newer[0])}, newer"
        for k in others:
            del self.by_id[k[0]]
        self.by_id[r[0]] = r
        return True, ""

    def table(self) -> list[R]:
        return sorted(self.by_id.values(), key=lambda r: r[1])


def _play(cls: Callable[[], Any], region: Callable[..., Any], reports: list[R]) -> None:
    table = kit.call("RegionTable()", cls)
    model = Model()
    done: list[str] = []
    for r in reports:
        what = f"heartbeat({show(r)})"
        got = kit.call(what, table.heartbeat, region(*r))
        ok, why = model.heartbeat(r)
        after = f" after {'; '.join(done[-4:])}" if done else ""
        if bool(got) != ok:
            if ok:
                raise Wrong(f"{what}{after} was refused, but nothing known is newer: a report whose "
                            f"epoch is not older than what is known must be taken")
            raise Wrong(f"{what}{after} was accepted, but {why}: a stale report must be refused")
        done.append(show(r) + ("" if ok else " (refused)"))
        got_table = kit.call("regions()", table.regions)
        try:
            have = [(int(x.id), bytes(x.start), bytes(x.end), int(x.version), int(x.conf_ver)) for x in got_table]
        except (AttributeError, TypeError, ValueError):
            raise Wrong(f"regions() returned {got_table!r}; expected a list of Region") from None
        if have != model.table():
            raise Wrong(f"after {'; '.join(done[-4:])}, regions() holds [{', '.join(map(show, have))}]; "
                        f"expected [{', '.join(map(show, model.table()))}]")


def repeated(cls: Callable[[], Any], region: Callable[..., Any], rng: random.Random) -> None:
    _play(cls, region, [(1, b"", b"", 1, 1)] * 3)


def split(cls: Callable[[], Any], region: Callable[..., Any], rng: random.Random) -> None:
    _play(cls, region, [(1, b"", b"", 1, 1), (2, b"m", b"", 2, 1), (1, b"", b"m", 2, 1), (1, b"", b"", 1, 1),
                        (2, b"m", b"", 2, 1)])


def conf_change(cls: Callable[[], Any], region: Callable[..., Any], rng: random.Random) -> None:
    _play(cls, region, [(1, b"", b"", 1, 1), (1, b"", b"", 1, 2), (1, b"", b"", 1, 1), (1, b"", b"", 2, 2),
                        (1, b"", b"", 2, 1)])


def gone(cls: Callable[[], Any], region: Callable[..., Any], rng: random.Random) -> None:
    _play(cls, region, [(1, b"", b"m", 2, 1), (2, b"m", b"", 2, 1), (3, b"c", b"p", 1, 1),
                        (1, b"", b"", 3, 1), (2, b"m", b"", 2, 1), (1, b"", b"", 3, 1)])


def shuffled_splits(cls: Callable[[], Any], region: Callable[..., Any], rng: random.Random) -> None:
    for _ in range(30):
        regions = {1: (1, b"", b"", 1, 1)}
        reports = [regions[1]]
        next_id = 2
        for _ in range(rng.randrange(2, 8)):
            rid = rng.choice(sorted(regions))
            _, start, end, v, c = regions[rid]
            if rng.random() < 0.3:
                regions[rid] = (rid, start, end, v, c + 1)
            else:
                lo = start[:1] or b"a"
                hi = end[:1] or b"z"
                if ord(hi) - ord(lo) < 2:
                    continue
                key = bytes([rng.randrange(ord(lo) + 1, ord(hi))])
                regions[rid] = (rid, start, key, v + 1, c)
                regions[next_id] = (next_id, key, end, v + 1, c)
                next_id += 1
            reports += [regions[r] for r in sorted(regions)]
        tail = reports[1:]
        rng.shuffle(tail)
        _play(cls, region, [reports[0], *tail])


SCENARIOS: dict[str, Callable[[Callable[[], Any], Callable[..., Any], random.Random], None]] = {
    "an unchanged region's heartbeats are taken": repeated,
    "after a split the parent's late report is refused": split,
    "a report from before a membership change is refused": conf_change,
    "a region split or merged away cannot come back": gone,
    "splits and conf changes reported out of order": shuffled_splits,
}


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    try:
        SCENARIOS[name](target, kit.sibling(target.__init__, "Region"), random.Random(seed))  # type: ignore[misc]
    except Wrong as exc:
        return str(exc)
    return None
