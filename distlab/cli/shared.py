"""What every `distlab` command shares: the consoles, the one error type, the hash-pinning
declaration, and option decorators whose defaults come from `TestOptions`.

A command that cannot go on raises `CliError` (or lets one of the exceptions named in
`as_cli_error` through it); the `distlab` group prints it as one line and exits 2, so
no command writes its own "print an error, exit 2" block.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.text import Text

from distlab.options import TestOptions

out = Console()
err = Console(stderr=True, soft_wrap=True, highlight=False)  # errors stay one line

F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=click.Command)


class CliError(click.ClickException):
    """The command cannot go on: `distlab` prints `error: <message>` on one line and exits 2."""

    exit_code = 2


@contextmanager
def as_cli_error(*kinds: type[BaseException], prefix: str = "") -> Iterator[None]:
    """Turn the given exceptions into a `CliError` (message after `prefix`): the failures a
    command expects (bad options, unreadable files) end in one line and exit status 2."""
    try:
        yield
    except kinds as exc:
        raise CliError(f"{prefix}{exc}") from exc


def error_line(text: str) -> None:
    """One line on stderr, never read as markup: messages quote paths and node output."""
    err.print(Text.assemble(("error:", "red"), " ", " ".join(str(text).split("\n"))))


def _os_error(exc: OSError) -> str:
    if exc.strerror and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


class OneLineErrors(click.Group):
    """The `distlab` group: a usage error, a `CliError`, a file that cannot be read or an
    unexpected failure ends with one line on stderr naming the cause, never a traceback."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:  # type: ignore[override]
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:  # bare `distlab`: the help, as click shows it
            exc.show()
            sys.exit(exc.exit_code)
        except click.ClickException as exc:  # CliError included
            ctx = getattr(exc, "ctx", None)
            hint = f" (see {ctx.command_path} --help)" if isinstance(exc, click.UsageError) and ctx else ""
            error_line(exc.format_message() + hint)
            sys.exit(exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            error_line("interrupted")
            sys.exit(130)
        except OSError as exc:
            error_line(_os_error(exc))
            sys.exit(2)
        except Exception as exc:
            if os.environ.get("DISTLAB_TRACEBACK"):
                raise
            error_line(f"{type(exc).__name__}: {exc} (unexpected: set DISTLAB_TRACEBACK=1 to see where)")
            sys.exit(2)
        sys.exit(rv if isinstance(rv, int) else 0)


# --- hash pinning -------------------------------------------------------------------

def pins_hash(command: C) -> C:
    """Declare that `command` runs node code (or a Raft under test): the console script
    re-executes it with PYTHONHASHSEED pinned, so code iterating over sets of strings
    replays exactly. Goes above `@click.command`."""
    command.pins_hash = True  # type: ignore[attr-defined]
    return command


def pinned(command: click.Command | None) -> bool:
    """Whether `command` was declared with `@pins_hash`."""
    return bool(getattr(command, "pins_hash", False))


# --- defaults -----------------------------------------------------------------------

# Every `distlab test` option that is a TestOptions field takes that field's default,
# except these, the CLI's deliberate differences (the one place they are written):
CLI_DEFAULTS: dict[str, Any] = {
    # Maelstrom's default workload; the API has none (a caller says which).
    "workload": "lin-kv",
    # Neither --node-count nor --nodes: Maelstrom's five nodes n1..n5 (resolve_nodes);
    # the API's node_count=5 names them n0..n4.
    "node_count": None,
    # Random and always printed; the API's 0 keeps library callers deterministic.
    "seed": None,
    # Jepsen's and Maelstrom's schedule; the API keeps "fixed", which runs recorded before
    # the key existed replay with and the tuned scenarios use.
    "nemesis_schedule": "stagger",
}
# Not a difference: --latency unset is TestOptions.latency=None in both, so the simulator
# adds its default jitter (TestOptions.resolved_jitter) either way.

_FIELDS = {f.name: f for f in dataclasses.fields(TestOptions)}


def default_of(name: str) -> Any:
    """The CLI default of the TestOptions field `name`: CLI_DEFAULTS, else the field's own
    (a list default becomes the comma-separated text the option takes)."""
    if name in CLI_DEFAULTS:
        return CLI_DEFAULTS[name]
    f = _FIELDS[name]
    if f.default is not dataclasses.MISSING:
        return f.default
    value = f.default_factory()  # type: ignore[misc]
    return ",".join(value) if isinstance(value, list) else value


def run_option(*decls: str, **attrs: Any) -> Callable[[F], F]:
    """`click.option` for a TestOptions field named after its long flag (--time-limit:
    time_limit), its default taken from `default_of` and shown when there is one."""
    flag = next(d for d in reversed(decls) if d.startswith("--"))
    default = default_of(flag[2:].replace("-", "_"))
    attrs.setdefault("default", default)
    attrs.setdefault("show_default", not (default is None or default is False or default == ""))
    return click.option(*decls, **attrs)


def options(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    """Several option decorators as one, applied in the order written (as --help lists them)."""

    def apply(f: F) -> F:
        for decorator in reversed(decorators):
            f = decorator(f)
        return f

    return apply


def bin_options(text: str) -> Callable[[F], F]:
    """--bin (the node, described by `text`) and, after the options or after --, the
    node's own arguments (`bin_args`)."""
    return options(
        click.option("--bin", "bin_path", required=True, type=click.Path(dir_okay=False), help=text),
        click.argument("bin_args", nargs=-1, type=click.UNPROCESSED),
    )


def store_option() -> Callable[[F], F]:
    """--store: where run directories go."""
    return run_option("--store", help="Where run directories go.")


def mode_option() -> Callable[[F], F]:
    """--mode: the simulator or real processes."""
    return run_option("--mode", type=click.Choice(["auto", "sim", "process"]),
                      help="auto: the simulator for Python SDK nodes, real processes for anything else.")


def scenario_option(example: str) -> Callable[[F], F]:
    """-s/--scenario: scenario names or globs (`patterns`) of a suite, e.g. `example`."""
    return click.option("-s", "--scenario", "patterns", multiple=True,
                        help=f"Scenario name or glob (repeatable), e.g. '{example}'.")


def list_option() -> Callable[[F], F]:
    """--list (`list_only`): list a suite's scenarios and exit."""
    return click.option("--list", "list_only", is_flag=True, help="List the scenarios and exit.")


# How raft-test and kv-lab mark a scenario's outcome (same words, so output greps alike).
SCENARIO_MARKS = {"pass": "[green]PASS[/]", "fail": "[red]FAIL[/]", "timeout": "[red]TIME[/]",
                  "skip": "[yellow]SKIP[/]"}
