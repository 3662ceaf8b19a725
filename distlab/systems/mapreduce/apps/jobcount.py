"""Counts map runs: each map leaves a file mr-worker-jobcount-*, sleeps 2-5 s, and the one
reduce counts the files, so a map run twice without any failure shows up. The sleep comes
from DISTLAB_MR_CRASH_SEED and the file's name when that is set (mr-test sets it), so a
check's timings are the same on every run; from fresh dice otherwise, as 6.824's."""

from __future__ import annotations

import itertools
import os
import random
from pathlib import Path

from distlab.systems.mapreduce.apps import sleep

_runs = itertools.count()


def map_fn(filename: str, contents: str) -> list[tuple[str, str]]:
    # this process's own pid: a runner process per map (other languages) stays distinct
    Path(f"mr-worker-jobcount-{os.getpid()}-{next(_runs)}").write_text("x")
    seed = os.environ.get("DISTLAB_MR_CRASH_SEED")
    rng = random.Random(f"mr-jobcount/{seed}/{Path(filename).name}") if seed else random
    sleep(2.0 + rng.random() * 3.0)
    return [("a", "x")]


def reduce_fn(key: str, values: list[str]) -> str:
    return str(sum(1 for name in os.listdir(".") if name.startswith("mr-worker-jobcount")))
