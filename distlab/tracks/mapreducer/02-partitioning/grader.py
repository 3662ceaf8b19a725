"""Grades `partition(key, n_reduce)`: in range, the same in every process (each map worker
is its own process and must send a key where the others send it), and spread evenly."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from distlab.tracks.procgrade import PYTHON, learner_file


def _kit() -> Any:
    spec = importlib.util.spec_from_file_location("_mapreducer_kit", Path(__file__).resolve().parent.parent / "kit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kit = _kit()
Wrong = kit.Wrong

_CHILD = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("learner", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
keys = json.loads(sys.stdin.read())
print(json.dumps([m.partition(k, 10) for k in keys]))
"""


def _keys(rng: random.Random, n: int) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyzéüß"
    words = {"".join(rng.choice(letters) for _ in range(rng.randint(1, 9))) for _ in range(n // 2)}
    words |= {f"http://example.com/item/{rng.randrange(10**9)}" for _ in range(n - len(words))}
    return sorted(words)


def _part(f: Any, key: str, n: int) -> int:
    got = kit.call(f"partition({key!r}, {n})", f, key, n)
    if not isinstance(got, int) or isinstance(got, bool) or not 0 <= got < n:
        raise Wrong(f"partition({key!r}, {n}) returned {got!r}; expected an int from 0 to {n - 1} "
                    f"(a reduce task's number)")
    return got


def in_range(f: Any, rng: random.Random) -> None:
    keys = ["", "a", "The", "été", "東京", *_keys(rng, 500)]
    for n in (1, 3, 10, 64):
        for key in keys:
            _part(f, key, n)


def same_in_every_process(f: Any, rng: random.Random) -> None:
    keys = _keys(rng, 200)
    here = [_part(f, k, 10) for k in keys]
    file = learner_file(f)
    for hashseed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hashseed, "PYTHONIOENCODING": "utf-8"}
        res = subprocess.run([PYTHON, "-c", _CHILD, str(file)], input=json.dumps(keys), capture_output=True,
                             text=True, timeout=30, env=env, check=False)
        if res.returncode != 0:
            said = (res.stderr.strip().splitlines() or [""])[-1]
            raise Wrong(f"partition() failed in a new process: {said}")
        there = json.loads(res.stdout)
        for key, a, b in zip(keys, here, there, strict=True):
            if a != b:
                raise Wrong(f"partition({key!r}, 10) was {a} in one process and {b} in another: every map "
                            "worker is its own process and all must send a key to the same reduce task "
                            "(Python's hash() of a string changes from one process to the next)")


def spread(f: Any, rng: random.Random) -> None:
    keys = _keys(rng, 10_000)
    counts = Counter(_part(f, k, 10) for k in keys)
    low, high = len(keys) * 0.07, len(keys) * 0.13
    for p in range(10):
        if not low <= counts[p] <= high:
            raise Wrong(f"partition {p} of 10 got {counts[p]:,} of {len(keys):,} distinct keys (expected about "
                        f"{len(keys) // 10:,}): uneven partitions leave most reduce workers idle while one "
                        "does the job")


SCENARIOS = {"in range": in_range, "same in every process": same_in_every_process, "spread": spread}


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    if not callable(target):
        return f"{target!r} is not a function: the grader calls partition(key, n_reduce)"
    try:
        SCENARIOS[name](target, random.Random(seed))
    except (Wrong, kit.Wrong) as exc:
        return str(exc)
    return None
