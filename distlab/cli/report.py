"""`distlab report RUN_DIR`: (re)write a run's report files from the files alone.

For old runs, runs copied from elsewhere and runs whose report predates a newer
distlab. It reads files only and runs no node code, so it does not pin hashing.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

import click

from distlab.cli.shared import as_cli_error, err, out
from distlab.report.build import write_report
from distlab.report.rundir import ReportError

__all__ = ["report"]


class _Progress:
    """A status line on a terminal's stderr, shown only once the work has taken over a
    second (a quick report prints nothing but its path)."""

    DELAY = 1.0

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.status: Any = None

    def step(self, what: str) -> None:
        if self.status is not None:
            self.status.update(f"distlab report: {what}")
        elif err.is_terminal and time.monotonic() - self.started > self.DELAY:
            self.status = err.status(f"distlab report: {what}")
            self.status.start()

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.status is not None:
            self.status.stop()


@click.command("report")
@click.argument("run_dir", type=click.Path())
def report(run_dir: str) -> None:
    """(Re)write RUN_DIR's messages.html (Lamport diagram), plots (latency-raw,
    latency-quantiles, rate; broadcast's stable latency) and report.html, then print
    the report's path."""
    with as_cli_error(ReportError), _Progress() as progress:
        written = write_report(run_dir, progress.step)
    out.print(str(written.report.resolve()), highlight=False, soft_wrap=True)  # store/latest moves on
