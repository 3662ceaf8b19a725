"""nocrash, except that each map and reduce crashes its worker a third of the time and
stalls it for up to 10 s another third: the job must survive both."""

from __future__ import annotations

import os
import random

from distlab.systems.mapreduce.apps import crash_worker, nocrash, sleep

# Every worker process rolls its own dice, as 6.824's crash app does. A test that must see
# a crash sets DISTLAB_MR_CRASH_SEED: then every worker rolls the same seeded sequence
# (so a seed whose first roll crashes makes every worker crash on its first task).
_seed = os.environ.get("DISTLAB_MR_CRASH_SEED")
_rng = random.Random(f"mr-crash/{_seed}") if _seed else random.SystemRandom()


def _maybe_crash() -> None:
    roll = _rng.randrange(1000)
    if roll < 330:
        crash_worker()
    elif roll < 660:
        sleep(_rng.random() * 10.0)


def map_fn(filename: str, contents: str) -> list[tuple[str, str]]:
    _maybe_crash()
    return nocrash.map_fn(filename, contents)


def reduce_fn(key: str, values: list[str]) -> str:
    _maybe_crash()
    return nocrash.reduce_fn(key, values)
