"""`distlab report`'s work: read a run directory once, then (re)write its messages.html,
plots and report.html. Library callers (the runner, `distlab serve`) call `write_report`;
the CLI adds only progress and the one-line errors.

The plots and the diagram need different halves of the run (the history; the trace)
and most of the plots' time is importing matplotlib, so where the machine can, a forked
child draws the plots while this process reads the trace and writes messages.html: on a
60,000-message run that is the difference between about 1.2 s and 1.6 s.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distlab.report.rundir import ReportError, RunDir


@dataclass
class Written:
    """The files one report wrote."""

    report: Path
    diagram: Path | None
    plots: list[Path]
    messages: int
    """Messages in the trace (the diagram's size)."""


def write_report(run_dir: Path | str, step: Callable[[str], None] | None = None,
                 parallel: bool | None = None) -> Written:
    """Write messages.html (when the run has a trace), the plots and report.html into
    `run_dir`. Raises ReportError for a directory that is not a readable run. `parallel`
    (default: when the run has a trace and the machine can fork onto a second core)
    draws the plots in a child process."""
    from distlab.report.diagram import diagram_data, render
    from distlab.report.page import write_page
    from distlab.report.plots import write_plots

    run = RunDir.load(run_dir, step, messages=False)
    if parallel is None:
        parallel = run.has_trace and _can_fork()
    plotting = _Plotting(run) if parallel else None
    diagram = None
    count = 0
    try:
        run.load_messages(step)
        if run.messages is not None:
            if step:
                step("drawing messages.html")
            data = diagram_data(run)
            count = data["counts"]["messages"]
            diagram = run.path / "messages.html"
            diagram.write_text(render(data), encoding="utf-8")
        if plotting is not None:
            if step:
                step("plotting")
            plots = plotting.result()
        else:
            plots = write_plots(run, step)
    except BaseException:
        if plotting is not None:  # the report fails: its plots are not waited for
            plotting.stop(kill=True)
        raise
    if plotting is not None:
        plotting.stop()
    if step:
        step("writing report.html")
    return Written(write_page(run, plots, diagram), diagram, plots, count)


def _can_fork() -> bool:
    return (os.cpu_count() or 1) > 1 and "fork" in multiprocessing.get_all_start_methods()


class _Plotting:
    """write_plots in a forked child (it inherits the loaded run: nothing is pickled but
    the list of files written, or the error)."""

    def __init__(self, run: RunDir) -> None:
        ctx = multiprocessing.get_context("fork")
        self.conn, child_end = ctx.Pipe(duplex=False)
        self.proc: Any = ctx.Process(target=_plot_child, args=(run, child_end), daemon=True)
        self.proc.start()
        child_end.close()

    def result(self) -> list[Path]:
        try:
            kind, payload = self.conn.recv()
        except EOFError:
            self.proc.join()
            raise ReportError(f"drawing the plots failed: the plotting process ended with status {self.proc.exitcode}") from None
        if kind != "ok":
            raise ReportError(f"drawing the plots failed: {payload}")
        return [Path(p) for p in payload]

    def stop(self, kill: bool = False) -> None:
        if kill and self.proc.is_alive():
            self.proc.kill()
        self.proc.join()
        self.conn.close()


def _plot_child(run: RunDir, conn: Any) -> None:
    from distlab.report.plots import write_plots

    try:
        conn.send(("ok", [str(p) for p in write_plots(run)]))
    except BaseException as exc:  # noqa: B036 (everything goes back to the parent as its one line)
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()
