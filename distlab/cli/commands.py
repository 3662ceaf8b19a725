"""The `distlab` group and its commands. Only `test`, `replay` and `demo` (the commands a
learner runs most) are imported with the group; the others are imported when named (or
listed by --help), so a run does not pay for the Raft, kv-lab and analyze imports."""

from __future__ import annotations

import importlib

import click

from distlab import __version__
from distlab.cli.run import demo, replay, test
from distlab.cli.shared import OneLineErrors

LAZY_COMMANDS: dict[str, str] = {
    "raft-test": "distlab.cli.raft_test:raft_test",
    "kv-lab": "distlab.cli.kv_lab:kv_lab",
    "shard-lab": "distlab.cli.shard_lab:shard_lab",
    "region-lab": "distlab.cli.region_lab:region_lab",
    "analyze": "distlab.cli.analyze:analyze",
    "report": "distlab.cli.report:report",
    "tracks": "distlab.cli.learn:tracks",
    "start": "distlab.cli.learn:start",
    "check": "distlab.cli.learn:check",
    "hint": "distlab.cli.learn:hint",
    "progress": "distlab.cli.learn:progress_cmd",
    "solution": "distlab.cli.learn:solution",
    "serve": "distlab.cli.serve:serve",
    "mr": "distlab.cli.mr:mr",
    "mr-test": "distlab.cli.mr:mr_test",
}
"""Command name: "module:attribute" of a command imported only when it is named."""


class _Group(OneLineErrors):
    """OneLineErrors whose LAZY_COMMANDS join `commands` the first time they are asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            module, _, attr = LAZY_COMMANDS[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
        return self.commands.get(cmd_name)

    def all_commands(self) -> dict[str, click.Command]:
        """Every command, the lazy ones imported (for tests and tools)."""
        ctx = click.Context(self)
        return {name: cmd for name in self.list_commands(ctx) if (cmd := self.get_command(ctx, name))}


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version")
def cli() -> None:
    """Build distributed systems, then watch them fail under test."""


for _command in (test, replay, demo):
    cli.add_command(_command)

