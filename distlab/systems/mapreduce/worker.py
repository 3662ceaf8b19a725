"""A worker: asks the coordinator for a task, runs it, reports it, and asks again; waits
when told to, and exits when told to or when the coordinator is gone (the job is over).

    python -m distlab.systems.mapreduce.worker APP
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from distlab.systems.mapreduce.apps import AppError, load
from distlab.systems.mapreduce.files import run_map, run_reduce
from distlab.systems.mapreduce.transport import CoordinatorGone, call, socket_path

BUGS = ("exit-on-wait",)
"""A deliberate mistake, for testing the checks: take "no task for you now" for "done"."""

APP_FAILED = 3
"""Exit status when the application raised: running the task again would fail again."""

POLL = 0.2
"""Seconds between asks while there is no task to hand out."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m distlab.systems.mapreduce.worker")
    parser.add_argument("app")
    parser.add_argument("--socket", default=None, help="Unix socket path (DISTLAB_MR_SOCKET)")
    parser.add_argument("--bug", choices=BUGS, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        app = load(args.app)
    except AppError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    path = args.socket or socket_path()
    me = os.getpid()
    give_up = time.monotonic() + 2.0  # the coordinator may still be starting
    connected = False
    while True:
        try:
            task = call(path, "task", {"worker": me})
        except CoordinatorGone:
            if connected or time.monotonic() > give_up:
                return 0
            time.sleep(0.1)
            continue
        connected = True
        kind = task.get("kind")
        if kind == "exit":
            return 0
        if kind == "wait":
            if args.bug == "exit-on-wait":
                return 0
            time.sleep(POLL)
            continue
        try:
            if kind == "map":
                run_map(app, int(task["task"]), str(task["file"]), int(task["n_reduce"]))
            elif kind == "reduce":
                run_reduce(app, int(task["task"]), int(task["n_map"]))
            else:
                print(f"error: the coordinator sent an unknown task {task!r}", file=sys.stderr)
                return 1
        except Exception as exc:  # the application's bug (or an unreadable file), not a crash
            where = f"map of {task.get('file')}" if kind == "map" else f"reduce task {task.get('task')}"
            print(f"error: {args.app}'s {where} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return APP_FAILED
        try:
            call(path, "done", {"kind": kind, "task": task["task"]})
        except CoordinatorGone:
            return 0


if __name__ == "__main__":
    sys.exit(main())
