"""Map parallelism probe: each map records when it ran in which worker (`times-PID`) and
how many workers were mapping at that moment (`parallel-PID`)."""

from __future__ import annotations

import time

from distlab.systems.mapreduce.apps import nparallel, worker_pid


def map_fn(filename: str, contents: str) -> list[tuple[str, str]]:
    started = time.time()
    pid = worker_pid()
    seen = nparallel("map")
    return [(f"times-{pid}", f"{started:.1f}"), (f"parallel-{pid}", str(seen))]


def reduce_fn(key: str, values: list[str]) -> str:
    return " ".join(sorted(values))
