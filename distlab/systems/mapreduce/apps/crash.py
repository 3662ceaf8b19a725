"""nocrash, except that each map and reduce crashes its worker a third of the time and
stalls it for up to 10 s another third: the job must survive both.

Without DISTLAB_MR_CRASH_SEED every call rolls fresh dice, as 6.824's crash app does (so
`distlab mr crash` differs from run to run). With it (`distlab mr-test` and the course's
graders set it to the check's seed), the dice of the k-th run of a map (by input file
name) or of a reduce (by key) in the job's folder come from that seed, that name and k
only: which runs crash and how long stalls last are the same in every run of the check,
whichever worker happens to take which task. A coordinator that never reassigns a task is
then caught, or not, on every run alike (crash_rolls lets a test see where it would be)."""

from __future__ import annotations

import hashlib
import itertools
import os
import random
from pathlib import Path

from distlab.systems.mapreduce.apps import crash_worker, nocrash, sleep

CRASH, STALL = 330, 660
"""A roll (0-999) below CRASH kills the worker; below STALL it stalls: 6.824's odds."""

MARK_PREFIX = ".mr-crash-"
"""Each seeded run leaves an empty file .mr-crash-<digest>-<k> in the job's folder, so the
next run of the same map or reduce (in another worker process) knows it is run k+1. A dot
file, so no `mr-*` pattern a worker uses for its own files matches it."""

_fresh = random.SystemRandom()


def _seed() -> str | None:
    return os.environ.get("DISTLAB_MR_CRASH_SEED") or None


def _digest(kind: str, name: str) -> str:
    return hashlib.sha256(f"{kind}\0{name}".encode(errors="surrogatepass")).hexdigest()[:16]


def _next_run(kind: str, name: str) -> int:
    """Which run of this map or reduce this is (0 first), claimed atomically in the folder
    (two workers running backup copies of one task at once get different numbers)."""
    digest = _digest(kind, name)
    for k in itertools.count():
        try:
            os.close(os.open(f"{MARK_PREFIX}{digest}-{k}", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            return k
        except FileExistsError:
            continue
    raise AssertionError("unreachable")


def dice(seed: str, kind: str, name: str, run: int) -> random.Random:
    """The dice of run `run` of a map of the file `name` or a reduce of the key `name`."""
    return random.Random(f"mr-crash/{seed}/{kind}/{name}/{run}")


def crash_rolls(seed: str, kind: str, name: str, run: int = 0) -> bool:
    """Whether that run crashes its worker under `seed`."""
    return dice(seed, kind, name, run).randrange(1000) < CRASH


def _maybe_crash(kind: str, name: str) -> None:
    seed = _seed()
    rng: random.Random = dice(seed, kind, name, _next_run(kind, name)) if seed else _fresh
    roll = rng.randrange(1000)
    if roll < CRASH:
        crash_worker()
    elif roll < STALL:
        sleep(rng.random() * 10.0)


def map_fn(filename: str, contents: str) -> list[tuple[str, str]]:
    _maybe_crash("map", Path(filename).name)  # the name only: the folder differs per run
    return nocrash.map_fn(filename, contents)


def reduce_fn(key: str, values: list[str]) -> str:
    _maybe_crash("reduce", key)
    return nocrash.reduce_fn(key, values)
