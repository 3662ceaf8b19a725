"""The `distlab` command: one module per command group, shared options and errors in
`shared`.

    run        test, replay, demo       (and the summary a run ends with)
    raft_test  raft-test
    kv_lab     kv-lab
    analyze    analyze ...
    shared     consoles, CliError, @pins_hash, option decorators, CLI_DEFAULTS

A command that runs node code is declared with `@pins_hash`; `main` re-executes it with
PYTHONHASHSEED pinned before click parses anything.
"""

from __future__ import annotations

import os
import sys

import click

from distlab import __version__
from distlab.cli.analyze import analyze
from distlab.cli.kv_lab import kv_lab
from distlab.cli.raft_test import raft_test
from distlab.cli.run import demo, print_summary, replay, test
from distlab.cli.shared import PINNED_HASH_SEED, CliError, OneLineErrors, pinned

__all__ = ["CliError", "cli", "main", "print_summary"]


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version")
def cli() -> None:
    """Build distributed systems, then watch them fail under test."""


for _command in (test, replay, demo, raft_test, kv_lab, analyze):
    cli.add_command(_command)


def main() -> None:
    """Console entry point; a command declared with `@pins_hash` runs with string hashing
    pinned, so node code iterating sets replays exactly."""
    command = cli.commands.get(sys.argv[1]) if len(sys.argv) > 1 else None
    if pinned(command) and os.environ.get("PYTHONHASHSEED") != PINNED_HASH_SEED:
        env = dict(os.environ, PYTHONHASHSEED=PINNED_HASH_SEED)
        os.execve(sys.executable, [sys.executable, "-m", "distlab", *sys.argv[1:]], env)
    cli(prog_name="distlab")
