"""A MapReduce coordinator as 6.824's: one map task per input file, then n_reduce reduce
tasks, handed to workers that ask over HTTP on a Unix socket; it exits once every task
is done.

    python coordinator.py FILE... [--reduce 10]

Routes (JSON bodies, POST): /task {"worker": pid} -> {"kind": "map", "task": X, "file": F,
"n_reduce": R} | {"kind": "reduce", "task": Y, "n_map": M} | {"kind": "wait"} |
{"kind": "exit"}; /done {"kind": "map"|"reduce", "task": N} -> {}."""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from typing import Any

from distlab.systems.mapreduce.transport import serve, socket_path

IDLE, RUNNING, DONE = "idle", "running", "done"


class Coordinator:
    """The task table. Requests arrive on many threads at once, so every method holds the
    lock, and none waits while holding it: a worker with nothing to do is told to wait."""

    def __init__(self, files: list[str], n_reduce: int, task_timeout: float) -> None:
        self.files, self.n_reduce, self.task_timeout = files, n_reduce, task_timeout
        self.state = {"map": [IDLE] * len(files), "reduce": [IDLE] * n_reduce}
        self.started = {"map": [0.0] * len(files), "reduce": [0.0] * n_reduce}
        self.runs = {"map": [0] * len(files), "reduce": [0] * n_reduce}
        self.lock = threading.Lock()

    def done(self) -> bool:
        with self.lock:
            return all(s == DONE for states in self.state.values() for s in states)

    def _give(self, kind: str, index: int) -> dict[str, Any]:
        self.state[kind][index] = RUNNING
        self.started[kind][index] = time.monotonic()
        self.runs[kind][index] += 1
        if kind == "map":
            return {"kind": "map", "task": index, "file": self.files[index], "n_reduce": self.n_reduce}
        return {"kind": "reduce", "task": index, "n_map": len(self.files)}

    def next_task(self) -> dict[str, Any]:
        with self.lock:
            # reduces start only when every map is done: each reads every map's output
            kind = "map" if any(s != DONE for s in self.state["map"]) else "reduce"
            states = self.state[kind]
            if all(s == DONE for s in states):
                return {"kind": "exit"}
            for i, s in enumerate(states):
                if s == IDLE:
                    return self._give(kind, i)
            now = time.monotonic()
            for i, s in enumerate(states):
                if s == RUNNING and now - self.started[kind][i] >= self.task_timeout:
                    return self._give(kind, i)  # silent too long: crashed or stuck
            for i, s in enumerate(states):
                if s == RUNNING and self.runs[kind][i] < 2:
                    return self._give(kind, i)  # a backup copy of a straggler
            return {"kind": "wait"}

    def finished(self, kind: str, index: int) -> dict[str, Any]:
        with self.lock:
            self.state[kind][index] = DONE  # a late second report changes nothing
            return {}

    def handle(self, route: str, body: dict[str, Any]) -> dict[str, Any]:
        if route == "task":
            return self.next_task()
        if route == "done":
            return self.finished(str(body["kind"]), int(body["task"]))
        raise ValueError(f"no route {route!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="coordinator.py")
    parser.add_argument("files", nargs="+")
    parser.add_argument("--reduce", type=int, default=10)
    args = parser.parse_args(argv)
    timeout = float(os.environ.get("DISTLAB_MR_TASK_TIMEOUT") or 10.0)
    coordinator = Coordinator(args.files, args.reduce, timeout)
    path = socket_path()  # DISTLAB_MR_SOCKET, else mr-socket in the current folder
    server = serve(path, coordinator.handle)  # HTTP on a Unix socket, a thread per request
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    while not coordinator.done():
        time.sleep(0.05)
    time.sleep(0.5)  # keep answering "exit" a moment, so polling workers hear it
    server.shutdown()
    os.unlink(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
