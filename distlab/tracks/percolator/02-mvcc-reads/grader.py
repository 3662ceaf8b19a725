"""Grades a learner's MvccTxn(reader, start_ts): get_value, current_write, most_recent_write,
on stores built record by record (TinyKV 4A's cases) and on random histories, against
distlab's own MvccTxn as the model."""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distlab.systems.percolator.mvcc import MvccTxn as Model
from distlab.systems.percolator.mvcc import Write, WriteKind
from distlab.systems.percolator.storage import MemoryStorage


def _kit() -> Any:
    spec = importlib.util.spec_from_file_location("_percolator_kit", Path(__file__).resolve().parent.parent / "kit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kit = _kit()
Wrong = kit.Wrong
K, K1 = b"k", b"k1"


def _record(rec: Any) -> str:
    if not isinstance(rec, tuple) or len(rec) != 2:
        return repr(rec)
    write, ts = rec
    if write is None:
        return "nothing"
    if not isinstance(write, Write):
        return repr(rec)
    return f"the {kit.KINDS[write.kind].upper()} record at commit ts {ts} from start ts {write.start_ts}"


def _history(storage: MemoryStorage, key: bytes) -> str:
    recs = kit.contents(storage, "write").get(key, [])
    return f" (the write column holds {kit._say(recs)} for {kit.show(key)})"


def check_value(target: Any, storage: MemoryStorage, key: bytes, ts: int) -> None:
    want = Model(storage.reader(), ts).get_value(key)
    txn = kit.call(f"MvccTxn(reader, {ts})", target, storage.reader(), ts)
    got = kit.call(f"get_value({kit.show(key)})", txn.get_value, key)
    if got != want:
        said = "nothing" if got is None else f"the value {kit.show(got)}"
        raise Wrong(f"get_value({kit.show(key)}) at start ts {ts} returned {said}; expected "
                    f"{'nothing' if want is None else kit.show(want)}{_history(storage, key)}")


def check_record(target: Any, storage: MemoryStorage, method: str, key: bytes, ts: int) -> None:
    want = getattr(Model(storage.reader(), ts), method)(key)
    txn = kit.call(f"MvccTxn(reader, {ts})", target, storage.reader(), ts)
    got = kit.call(f"{method}({kit.show(key)})", getattr(txn, method), key)
    if got != want:
        raise Wrong(f"{method}({kit.show(key)}) for a transaction at start ts {ts} returned {_record(got)}; "
                    f"expected {_record(want)}{_history(storage, key)}")


def tinykv_cases(target: Any, rng: random.Random) -> None:
    s = MemoryStorage()
    kit.committed(s, K, b"v40", 40, 42)
    for ts in (43, 41, 42):
        check_value(target, s, K, ts)
    check_value(target, s, b"k0", 43)
    kit.committed(s, K, b"v50", 50, 52)
    for ts in (52, 50, 100):
        check_value(target, s, K, ts)
    kit.committed(s, K, None, 60, 62)
    for ts in (61, 62, 500):
        check_value(target, s, K, ts)


def rollbacks(target: Any, rng: random.Random) -> None:
    s = MemoryStorage()
    kit.committed(s, K, b"v40", 40, 42)
    kit.write(s, K, 60, 60, WriteKind.ROLLBACK)
    kit.write(s, K, 72, 70, WriteKind.LOCK)
    for ts in (100, 65):
        check_value(target, s, K, ts)


def neighbours(target: Any, rng: random.Random) -> None:
    s = MemoryStorage()
    kit.committed(s, K1, b"v1", 28, 30)
    check_record(target, s, "most_recent_write", K, 50)
    check_record(target, s, "current_write", K, 28)
    check_value(target, s, K, 50)
    kit.committed(s, K, b"v", 50, 55)
    check_value(target, s, K, 40)
    check_value(target, s, K1, 40)


def own_records(target: Any, rng: random.Random) -> None:
    s = MemoryStorage()
    check_record(target, s, "most_recent_write", K, 50)
    kit.committed(s, K, b"v40", 40, 42)
    kit.committed(s, K, b"v50", 50, 52)
    kit.write(s, K, 60, 60, WriteKind.ROLLBACK)
    for ts in (50, 40, 41, 60, 61):
        check_record(target, s, "current_write", K, ts)
    for ts in (1, 50, 5000):
        check_record(target, s, "most_recent_write", K, ts)


def random_histories(target: Any, rng: random.Random) -> None:
    keys = [b"k", b"k1", b"k2", b"ka", b"abcdefgh"]
    for _ in range(300 // 10):
        s = MemoryStorage()
        ts = 1
        for _ in range(12):
            key, start = rng.choice(keys), ts
            commit = start + rng.randrange(3)
            ts = commit + 1
            kind = rng.choice([WriteKind.PUT, WriteKind.PUT, WriteKind.DELETE, WriteKind.ROLLBACK,
                               WriteKind.LOCK])
            if kind == WriteKind.ROLLBACK:
                kit.write(s, key, start, start, kind)
            elif kind == WriteKind.PUT:
                kit.committed(s, key, f"v{start}".encode(), start, commit)
            else:
                kit.write(s, key, commit, start, kind)
        for _ in range(10):
            key, at = rng.choice(keys), rng.randrange(ts + 2)
            check_value(target, s, key, at)
            check_record(target, s, rng.choice(["current_write", "most_recent_write"]), key, at)


SCENARIOS: dict[str, Callable[[Any, random.Random], None]] = {
    "TinyKV 4A: a value too early, overwritten, deleted, missing": tinykv_cases,
    "rollback and lock records are not versions": rollbacks,
    "a key's neighbours are other keys": neighbours,
    "current_write and most_recent_write": own_records,
    "300 random reads of random histories": random_histories,
}


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    if not callable(target):
        return f"{target!r} is not a class: the grader builds MvccTxn(reader, start_ts)"
    try:
        SCENARIOS[name](target, random.Random(seed))
    except Wrong as exc:
        return str(exc)
    return None
