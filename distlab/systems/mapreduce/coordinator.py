"""The coordinator: hands out map tasks (one per input file), then reduce tasks (n_reduce
of them), and gives a task to another worker when the one holding it has been silent for
`task_timeout` seconds: it may have crashed or be stuck, and the coordinator cannot tell
which. It exits once every output file is written.

    python -m distlab.systems.mapreduce.coordinator FILE... [--reduce 10] [--task-timeout 10]

Routes (JSON over HTTP on the Unix socket): `task` {"worker": pid} -> {"kind": "map",
"task": X, "file": F, "n_reduce": R} | {"kind": "reduce", "task": Y, "n_map": M} |
{"kind": "wait"} | {"kind": "exit"}; `done` {"kind", "task"}; `status` -> counters.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from distlab.systems.mapreduce.transport import serve, socket_path

BUGS = ("never-reassign", "no-in-progress")
"""Deliberate mistakes, for testing the checks: a coordinator that never gives a silent
worker's task to anyone else, and one that leaves a handed-out task idle (so the next
worker to ask gets it too)."""


@dataclass
class Task:
    kind: str
    index: int
    file: str = ""
    state: str = "idle"  # idle | running | done
    started: float = 0.0
    attempts: int = 0


class Coordinator:
    """The task table; every method holds the lock (requests arrive on many threads)."""

    def __init__(self, files: list[str], n_reduce: int, task_timeout: float, bug: str | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.maps = [Task("map", i, f) for i, f in enumerate(files)]
        self.reduces = [Task("reduce", i) for i in range(n_reduce)]
        self.task_timeout = task_timeout
        self.bug = bug
        self.clock = clock
        self.reassigned = 0
        self.workers: set[int] = set()
        self._lock = threading.Lock()

    def _phase(self) -> list[Task]:
        return self.reduces if all(t.state == "done" for t in self.maps) else self.maps

    def request(self, worker: int) -> dict[str, Any]:
        with self._lock:
            self.workers.add(worker)
            if self._done():
                return {"kind": "exit"}
            now = self.clock()
            for task in self._phase():
                late = task.state == "running" and now - task.started >= self.task_timeout
                if task.state == "idle" or (late and self.bug != "never-reassign"):
                    if late:
                        self.reassigned += 1
                    if self.bug != "no-in-progress":
                        task.state = "running"
                    task.started, task.attempts = now, task.attempts + 1
                    if task.kind == "map":
                        return {"kind": "map", "task": task.index, "file": task.file,
                                "n_reduce": len(self.reduces)}
                    return {"kind": "reduce", "task": task.index, "n_map": len(self.maps)}
            return {"kind": "wait"}

    def report(self, kind: str, index: int) -> dict[str, Any]:
        with self._lock:
            tasks = self.maps if kind == "map" else self.reduces
            if not 0 <= index < len(tasks):
                raise ValueError(f"no {kind} task {index}")
            tasks[index].state = "done"  # a late duplicate report changes nothing
            return {}

    def _done(self) -> bool:
        return all(t.state == "done" for t in self.reduces) and all(t.state == "done" for t in self.maps)

    def done(self) -> bool:
        with self._lock:
            return self._done()

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {"maps": len(self.maps), "maps_done": sum(t.state == "done" for t in self.maps),
                    "reduces": len(self.reduces),
                    "reduces_done": sum(t.state == "done" for t in self.reduces),
                    "map_runs": sum(t.attempts for t in self.maps),
                    "reduce_runs": sum(t.attempts for t in self.reduces),
                    "reassigned": self.reassigned, "workers": len(self.workers)}

    def handle(self, route: str, body: dict[str, Any]) -> dict[str, Any]:
        if route == "task":
            return self.request(int(body.get("worker", 0)))
        if route == "done":
            return self.report(str(body["kind"]), int(body["task"]))
        if route == "status":
            return self.status()
        raise ValueError(f"no route {route!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m distlab.systems.mapreduce.coordinator")
    parser.add_argument("files", nargs="+")
    parser.add_argument("--reduce", type=int, default=10, help="number of reduce tasks")
    parser.add_argument("--task-timeout", type=float,
                        default=float(os.environ.get("DISTLAB_MR_TASK_TIMEOUT") or 10.0),
                        help="seconds before a silent worker's task goes to another")
    parser.add_argument("--socket", default=None, help="Unix socket path (DISTLAB_MR_SOCKET)")
    parser.add_argument("--linger", type=float, default=0.5,
                        help="seconds to keep answering `exit` to polling workers at the end")
    parser.add_argument("--bug", choices=BUGS, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.reduce < 1 or args.task_timeout <= 0:
        parser.error("--reduce and --task-timeout must be positive")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally below runs
    coordinator = Coordinator(args.files, args.reduce, args.task_timeout, args.bug)
    path = args.socket or socket_path()
    server = serve(path, coordinator.handle)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        while not coordinator.done():
            time.sleep(0.05)
        time.sleep(args.linger)
    finally:
        server.shutdown()
        server.server_close()
        try:
            os.unlink(path)
        except OSError:
            pass
    print(json.dumps(coordinator.status()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
