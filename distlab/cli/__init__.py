"""The `distlab` command: one module per command group, shared options and errors in
`shared`.

    commands   the `distlab` group (raft-test, kv-lab, analyze imported when named)
    run        test, replay, demo       (and the summary a run ends with)
    raft_test  raft-test
    kv_lab     kv-lab
    analyze    analyze ...
    shared     consoles, CliError, @pins_hash, option decorators, CLI_DEFAULTS

A command that runs node code is declared with `@pins_hash`; `main` re-executes it with
PYTHONHASHSEED pinned before anything heavy is imported: it knows those commands by
name (PINNED_COMMANDS, kept equal to the `@pins_hash` declarations by a test), so the
first process costs an interpreter start, not a second import of the whole CLI.
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["PINNED_COMMANDS", "PINNED_HASH_SEED", "CliError", "cli", "main", "print_summary"]

PINNED_HASH_SEED = "0"
PINNED_COMMANDS = frozenset({"test", "replay", "demo", "raft-test", "kv-lab", "shard-lab", "region-lab", "check",
                             "tracks"})
"""The commands declared with `@pins_hash`, by name (tests/test_cli.py keeps them equal)."""


def main() -> None:
    """Console entry point; a command declared with `@pins_hash` runs with string hashing
    pinned, so node code iterating sets replays exactly."""
    if len(sys.argv) > 1 and sys.argv[1] in PINNED_COMMANDS and os.environ.get("PYTHONHASHSEED") != PINNED_HASH_SEED:
        env = dict(os.environ, PYTHONHASHSEED=PINNED_HASH_SEED)
        os.execve(sys.executable, [sys.executable, "-m", "distlab", *sys.argv[1:]], env)
    from distlab.cli.commands import cli

    cli(prog_name="distlab")


def __getattr__(name: str) -> Any:
    """`cli`, `CliError` and `print_summary`, imported on first use (main stays light)."""
    if name == "cli":
        from distlab.cli.commands import cli

        return cli
    if name == "CliError":
        from distlab.cli.shared import CliError

        return CliError
    if name == "print_summary":
        from distlab.cli.run import print_summary

        return print_summary
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
