"""A MapReduce application for the stragglers task: word count, except that the first run
of the map of the file named *sherlock* stalls for STALL seconds (a worker on a machine
with a failing disk); a second run takes BUSY seconds, as every other map. Each map run
leaves a file `mr-run-*`, so the grader can count runs. Not a task: the catalogue skips it."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from distlab.systems.mapreduce.apps import wc

STALL = 12.0
BUSY = 0.2  # every map takes a moment, so two copies of a task run at the same time


def map_fn(filename: str, contents: str) -> list[tuple[str, str]]:
    Path(f"mr-run-{uuid.uuid4().hex}").write_text(filename)
    if "sherlock" in Path(filename).name:
        try:
            fd = os.open("mr-straggled", os.O_CREAT | os.O_EXCL | os.O_WRONLY)  # only the first run
            os.close(fd)
            time.sleep(STALL)
        except FileExistsError:
            pass
    time.sleep(BUSY)
    return wc.map_fn(filename, contents)


def reduce_fn(key: str, values: list[str]) -> str:
    return wc.reduce_fn(key, values)
