"""The sequential reference (6.824's mrsequential): every map in turn, one sort, one
reduce per key, everything in mr-out-0. The distributed job's sorted output must equal it.

    python -m distlab.systems.mapreduce.sequential APP FILE...
"""

from __future__ import annotations

import sys

from distlab.systems.mapreduce.apps import App, AppError, load
from distlab.systems.mapreduce.files import read_input, reduce_lines, write_atomically


def run(app: App, files: list[str]) -> list[str]:
    """The output lines (with newlines), in key order."""
    pairs: list[tuple[str, str]] = []
    for filename in files:
        pairs.extend(app.map_fn(filename, read_input(filename)))
    return reduce_lines(app, pairs)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        print("usage: python -m distlab.systems.mapreduce.sequential APP FILE...", file=sys.stderr)
        return 2
    try:
        write_atomically("mr-out-0", run(load(args[0]), args[1:]))
    except (AppError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
