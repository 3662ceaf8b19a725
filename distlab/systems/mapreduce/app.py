"""Run an application's map or reduce for a worker written in another language.

    python -m distlab.systems.mapreduce.app APP map FILE   -> JSON lines ["key", "value"]
    python -m distlab.systems.mapreduce.app APP reduce     <- JSON lines ["key", "value"]
                                                           -> `key value` lines, in key order

The worker is taken to be this process's parent (set DISTLAB_MR_WORKER_PID otherwise):
the timing apps count workers by it, and the crash app kills it, as a crash would."""

from __future__ import annotations

import json
import os
import sys

from distlab.systems.mapreduce.apps import AppError, load
from distlab.systems.mapreduce.files import read_input, reduce_lines


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2 or args[1] not in ("map", "reduce") or (args[1] == "map") != (len(args) == 3):
        print("usage: python -m distlab.systems.mapreduce.app APP map FILE | APP reduce",
              file=sys.stderr)
        return 2
    os.environ.setdefault("DISTLAB_MR_WORKER_PID", str(os.getppid()))
    try:
        app = load(args[0])
        if args[1] == "map":
            for key, value in app.map_fn(args[2], read_input(args[2])):
                sys.stdout.write(json.dumps([key, value]) + "\n")
        else:
            pairs = [(k, v) for k, v in (json.loads(line) for line in sys.stdin if line.strip())]
            sys.stdout.writelines(reduce_lines(app, pairs))
    except (AppError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
