"""Mutant: rm of a missing key says so but exits 0."""

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
    return 0


if __name__ == "__main__":
    sys.exit(main())
