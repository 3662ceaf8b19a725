"""`distlab serve`: browse a store of runs in a web browser (distlab/report/serve.py)."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

import click

from distlab.cli.shared import CliError, out
from distlab.runstore import run_dirs


def _check_port(host: str, port: int) -> None:
    """Fail with one line before uvicorn would print its own multi-line error."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            why = "is in use (another distlab serve?): choose one with --port" if exc.errno == errno.EADDRINUSE else exc.strerror
            raise CliError(f"cannot listen on {host}:{port}: the port {why}") from None


@click.command()
@click.option("--store", default="store", show_default=True, type=click.Path(file_okay=False),
              help="The folder of runs (what `distlab test --store` wrote).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (local only by default).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
def serve(store: str, host: str, port: int) -> None:
    """Browse runs in a web browser: newest first, coloured by verdict, each run's report."""
    root = Path(store)
    if not root.is_dir():
        raise CliError(f"--store {store}: no such folder (runs go to ./store by default: run `distlab test` first)")
    _check_port(host, port)
    from distlab.report.serve import serve as run_server

    out.print(f"distlab serve: {len(run_dirs(root))} run(s) in {root.resolve()} at http://{host}:{port}/ "
              "(Ctrl-C stops)", highlight=False, soft_wrap=True)
    run_server(root, host, port)
