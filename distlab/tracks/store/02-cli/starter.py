"""kvs: your key/value store as a command line.

    python kvs.py set KEY VALUE     prints nothing
    python kvs.py get KEY           prints the value, or "Key not found"
    python kvs.py rm KEY            prints nothing; "Key not found" and exit 1 if missing
    python kvs.py -V                prints a version

Keep the pairs in a file in the current folder so the next run sees them."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Run one command and return the exit status."""
    parser = argparse.ArgumentParser(prog="kvs")
    parser.add_argument("-V", "--version", action="version", version="kvs 0.1.0")
    commands = parser.add_subparsers(dest="command", required=True)
    set_cmd = commands.add_parser("set")
    set_cmd.add_argument("key")
    set_cmd.add_argument("value")
    # TODO: the get and rm subcommands
    args = parser.parse_args(argv)
    if args.command == "set":
        pass  # TODO: load the pairs saved by earlier runs, set, save them back
    return 0


if __name__ == "__main__":  # the grader imports main(), then runs this file as a program
    sys.exit(main())
