"""What every `distlab` command shares: the consoles, the one error type, the hash-pinning
declaration, option decorators whose defaults come from `TestOptions`, and the options
the workloads declare (`workload_options`: one per field of their Params).

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


# --- workload parameters ------------------------------------------------------------

# The command-line form of a declared parameter type (an annotation as written, with or
# without "| None"); a tuple or list of strings is one comma-separated option.
_CLICK_TYPES: dict[str, click.ParamType] = {"int": click.INT, "float": click.FLOAT, "str": click.STRING}


def _narrower() -> dict[str, click.ParamType]:
    """Parameters whose values are narrower than their declared type, checked before a
    run starts as a usage error (the workload or TestOptions would refuse them later)."""
    from distlab.workloads.topology import TOPOLOGIES

    return {"topology": click.Choice(list(TOPOLOGIES)), "max_writes_per_key": click.IntRange(1)}


class CommaList(click.ParamType):
    """A list option given as one comma-separated word ("a,b"; empty items dropped)."""

    name = "list"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> list[str]:
        if isinstance(value, (list, tuple)):
            return list(value)
        return [item for item in str(value).split(",") if item]


def _type_text(annotation: Any) -> str:
    """A declared annotation as written, without its "| None" ("int | None": "int")."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    if text.startswith("Optional[") and text.endswith("]"):
        text = text[len("Optional["):-1]
    return text.removesuffix(" | None")


def _shown(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def workload_option(name: str, uses: list[tuple[str, Any]]) -> Callable[[F], F]:
    """The `distlab test` option of the workload parameter `name`, declared by each
    workload in `uses` ((workload, ParamSpec) pairs): its type from the declaration, its
    help each declaring workload's, its default the TestOptions field's (`default_of`;
    where that is unset, each workload's own default applies and the help says which)."""
    if name not in _FIELDS:
        raise TypeError(f"workload parameter {name!r} ({', '.join(w for w, _ in uses)}) is not a TestOptions field")
    text = _type_text(uses[0][1].type)
    attrs: dict[str, Any] = {}
    narrower = _narrower()
    if text.startswith(("tuple[", "list[")):
        attrs.update(type=CommaList(), metavar="A,B,...")
    elif name in narrower:
        attrs["type"] = narrower[name]
    elif text in _CLICK_TYPES:
        attrs["type"] = _CLICK_TYPES[text]
    else:
        raise TypeError(f"workload parameter {name!r}: no command-line form for type {text!r}")
    unset = default_of(name) in (None, "")
    groups: dict[tuple[str, str | None], list[str]] = {}
    for workload, spec in uses:
        own = None if not unset or spec.default is None else _shown(spec.default)
        groups.setdefault((spec.help.rstrip("."), own), []).append(workload)
    attrs["help"] = " ".join(f"{', '.join(names)}: {help_text}" + (f" (default {own})" if own else "") + "."
                             for (help_text, own), names in groups.items())
    return run_option(f"--{name.replace('_', '-')}", **attrs)


def workload_options(parameters: dict[str, list[Any]] | None = None) -> Callable[[F], F]:
    """One `distlab test` option per parameter the workloads declare (`parameters`:
    distlab.workloads.registry.workload_parameters()), in the order first declared: a
    new field in a workload's Params is a new option, with no line here."""
    if parameters is None:
        from distlab.workloads.registry import workload_parameters

        parameters = workload_parameters()
    uses: dict[str, list[tuple[str, Any]]] = {}
    for workload, specs in parameters.items():
        for spec in specs:
            uses.setdefault(spec.name, []).append((workload, spec))
    return options(*(workload_option(name, pairs) for name, pairs in uses.items()))


def store_option() -> Callable[[F], F]:
    """--store: where run directories go."""
    return run_option("--store", help="Where run directories go.")


def mode_option() -> Callable[[F], F]:
    """--mode: the simulator, real processes, or real processes on a real network."""
    return run_option("--mode", type=click.Choice(["auto", "sim", "process", "net"]),
                      help="auto: the simulator for Python SDK nodes, real processes for anything else; "
                           "net: each node in its own network namespace, TCP between them (root).")


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
