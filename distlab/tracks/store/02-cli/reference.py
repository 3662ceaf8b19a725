"""kvs, the command line of Talent Plan TP 201's project 1: `kvs set KEY VALUE`,
`kvs get KEY`, `kvs rm KEY`, with the pairs kept in kvs.json in the current folder so
they last from one run to the next.

The whole file is rewritten after each change (to a temporary file, then os.replace, so
a crash leaves the old or the new file, never half of one); the next task replaces
this with a log that only appends."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

DATA = Path("kvs.json")
VERSION = "0.1.0"


def load() -> dict[str, str]:
    """Every pair saved by earlier runs (none on the first run)."""
    try:
        return json.loads(DATA.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    except FileNotFoundError:
        return {}


def save(pairs: dict[str, str]) -> None:
    """Replace the data file whole: write a temporary file, then rename it over the old."""
    tmp = DATA.with_suffix(".tmp")
    tmp.write_text(json.dumps(pairs), encoding="utf-8")
    os.replace(tmp, DATA)


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit status (0 = done, 1 = key not found, 2 = bad usage)."""
    parser = argparse.ArgumentParser(prog="kvs", description="A key/value store.")
    parser.add_argument("-V", "--version", action="version", version=f"kvs {VERSION}")
    commands = parser.add_subparsers(dest="command", required=True)
    set_cmd = commands.add_parser("set", help="store VALUE under KEY")
    set_cmd.add_argument("key")
    set_cmd.add_argument("value")
    commands.add_parser("get", help="print the value under KEY").add_argument("key")
    commands.add_parser("rm", help="remove KEY").add_argument("key")
    args = parser.parse_args(argv)

    pairs = load()
    if args.command == "set":
        pairs[args.key] = args.value
        save(pairs)
    elif args.command == "get":
        print(pairs.get(args.key, "Key not found"))
    elif args.key in pairs:
        del pairs[args.key]
        save(pairs)
    else:
        print("Key not found")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
