"""Mutant: the pairs live in a module-level dict, gone when the process exits."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DATA = Path("kvs.json")
VERSION = "0.1.0"
PAIRS: dict[str, str] = {}


def load() -> dict[str, str]:
    """Every pair saved by earlier runs (none on the first run)."""
    return PAIRS


def save(pairs: dict[str, str]) -> None:
    """Replace the data file whole: write a temporary file, then rename it over the old."""
    PAIRS.update(pairs)


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
