"""The ``kvs`` command: Talent Plan's command-line contract over any engine.

    kvs set KEY VALUE     store (prints nothing)
    kvs get KEY           print the value, or "Key not found" (exit 0)
    kvs rm KEY            remove, or print "Key not found" and exit 1
    kvs -V | --version    print the version

``--dir`` (default: the current directory, as in the course), ``--engine`` and ``--fsync`` may
come before or after the subcommand. Keys and values are UTF-8 strings. Wrong arguments are a
usage error (exit 2); a store error prints ``error: ...`` on stderr and exits 1.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from distlab import __version__
from distlab.systems.kvs.engines import (
    ENGINES,
    FSYNC_POLICIES,
    Engine,
    KeyNotFound,
    KvsError,
    open_engine,
)

_SETTINGS = {"help_option_names": ["-h", "--help"]}


def _store_options(top: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--dir/--engine/--fsync, on the group (with defaults) and on each subcommand (overrides)."""

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        f = click.option(
            "--fsync",
            type=click.Choice(FSYNC_POLICIES),
            default="always" if top else None,
            show_default=top,
            help="When writes reach the disk (see distlab.systems.kvs.store).",
        )(f)
        f = click.option(
            "--engine",
            type=click.Choice(ENGINES),
            default="kvs" if top else None,
            show_default=top,
            help="Storage engine; a data directory keeps the engine that created it.",
        )(f)
        f = click.option(
            "--dir",
            "directory",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path(".") if top else None,
            show_default="current directory" if top else False,
            help="Data directory.",
        )(f)
        return f

    return decorate


@click.group(context_settings=_SETTINGS, invoke_without_command=True)
@click.version_option(
    __version__, "-V", "--version", prog_name="kvs", message="%(prog)s %(version)s"
)
@_store_options(top=True)
@click.pass_context
def main(ctx: click.Context, directory: Path, engine: str, fsync: str) -> None:
    """A log-structured key/value store (distlab's Talent Plan kvs)."""
    if ctx.invoked_subcommand is None:
        raise click.UsageError("missing command: set, get or rm", ctx)
    ctx.obj = {"directory": directory, "engine": engine, "fsync": fsync}


@contextmanager
def _opened(directory: Path | None, engine: str | None, fsync: str | None) -> Iterator[Engine]:
    obj = click.get_current_context().obj
    try:
        store = open_engine(
            directory or obj["directory"], engine or obj["engine"], fsync=fsync or obj["fsync"]
        )
    except KvsError as exc:
        _fail(exc)
    try:
        yield store
    except KeyNotFound:
        raise
    except KvsError as exc:
        _fail(exc)
    finally:
        store.close()


def _fail(exc: Exception) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(1)


@main.command("set", context_settings=_SETTINGS)
@click.argument("key")
@click.argument("value")
@_store_options(top=False)
def set_cmd(
    key: str, value: str, directory: Path | None, engine: str | None, fsync: str | None
) -> None:
    """Set KEY to VALUE."""
    with _opened(directory, engine, fsync) as store:
        store.set(os.fsencode(key), os.fsencode(value))


@main.command("get", context_settings=_SETTINGS)
@click.argument("key")
@_store_options(top=False)
def get_cmd(key: str, directory: Path | None, engine: str | None, fsync: str | None) -> None:
    """Print the value of KEY, or "Key not found"."""
    with _opened(directory, engine, fsync) as store:
        value = store.get(os.fsencode(key))
    if value is None:
        click.echo("Key not found")
        return
    try:
        click.echo(value.decode())
    except UnicodeDecodeError:  # stored by another client: print the bytes as they are
        sys.stdout.buffer.write(value + b"\n")


@main.command("rm", context_settings=_SETTINGS)
@click.argument("key")
@_store_options(top=False)
def rm_cmd(key: str, directory: Path | None, engine: str | None, fsync: str | None) -> None:
    """Remove KEY; "Key not found" and exit 1 when it is absent."""
    try:
        with _opened(directory, engine, fsync) as store:
            store.remove(os.fsencode(key))
    except KeyNotFound:
        click.echo("Key not found")
        sys.exit(1)


if __name__ == "__main__":
    main()
