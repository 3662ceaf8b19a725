"""A MapReduce worker as 6.824's: ask the coordinator for a task, run it, report it, ask
again; wait when told to, exit when told to or when the coordinator is gone.

    python worker.py APP

APP is an application distlab knows (wc, indexer, crash, ...) or FILE.py with map_fn and
reduce_fn. The coordinator is reached over HTTP on the Unix socket DISTLAB_MR_SOCKET."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Iterable
from itertools import groupby

from distlab.systems.mapreduce.apps import App, load
from distlab.systems.mapreduce.transport import CoordinatorGone, call, socket_path


def ihash(key: str) -> int:
    """FNV-1a, 32 bits, masked to 31: the same in every worker process."""
    h = 0x811C9DC5
    for byte in key.encode("utf-8", "surrogateescape"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h & 0x7FFFFFFF


def write_atomically(path: str, lines: Iterable[str]) -> None:
    fd, tmp = tempfile.mkstemp(dir=".", prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.writelines(lines)
    os.replace(tmp, path)


def run_map(app: App, map_task: int, filename: str, n_reduce: int) -> None:
    with open(filename, encoding="utf-8", errors="surrogateescape") as f:
        contents = f.read()
    buckets: list[list[str]] = [[] for _ in range(n_reduce)]
    for key, value in app.map_fn(filename, contents):
        buckets[ihash(key) % n_reduce].append(json.dumps([key, value]) + "\n")
    for y, lines in enumerate(buckets):
        write_atomically(f"mr-{map_task}-{y}", lines)


def run_reduce(app: App, reduce_task: int, n_map: int) -> None:
    pairs: list[tuple[str, str]] = []
    for x in range(n_map):
        with open(f"mr-{x}-{reduce_task}", encoding="utf-8", errors="surrogateescape") as f:
            pairs.extend((k, v) for k, v in map(json.loads, f))
    pairs.sort(key=lambda kv: kv[0])
    write_atomically(f"mr-out-{reduce_task}", [f"{key} {app.reduce_fn(key, [v for _, v in group])}\n"
                                              for key, group in groupby(pairs, key=lambda kv: kv[0])])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python worker.py APP", file=sys.stderr)
        return 2
    app = load(args[0])
    path = socket_path()
    connected = False
    started = time.monotonic()
    while True:
        try:
            task = call(path, "task", {"worker": os.getpid()})
        except CoordinatorGone:
            if connected or time.monotonic() - started > 2.0:
                return 0  # the coordinator has exited: the job is over
            time.sleep(0.1)  # or it is still starting
            continue
        connected = True
        if task["kind"] == "exit":
            return 0
        if task["kind"] == "wait":  # nothing to do *now*; tasks may still be reassigned
            time.sleep(0.2)
            continue
        if task["kind"] == "map":
            run_map(app, task["task"], task["file"], task["n_reduce"])
        else:
            run_reduce(app, task["task"], task["n_map"])
        try:
            call(path, "done", {"kind": task["kind"], "task": task["task"]})
        except CoordinatorGone:
            return 0


if __name__ == "__main__":
    sys.exit(main())
