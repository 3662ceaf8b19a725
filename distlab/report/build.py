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
    views = write_views(run, step)
    if step:
        step("writing report.html")
    return Written(write_page(run, plots, diagram, views), diagram, plots, count)


def write_views(run: RunDir, step: Callable[[str], None] | None = None) -> dict[str, str]:
    """The pages and fragments that explain a verdict, beside the plots: timeline.html
    (operations per process), linearizability.html (a run found not linearizable) and
    the transaction anomalies' cycles (inline). Returns what report.html links or embeds."""
    from distlab.report.cycles import cycles_html
    from distlab.report.lin_view import write_lin_view
    from distlab.report.timeline import timeline_html

    views: dict[str, str] = {}
    if step:
        step("writing timeline.html")
    page = TIMELINE_PAGE.format(title=f"{run.config.get('workload', 'run')} operations", body=timeline_html(run.history))
    (run.path / "timeline.html").write_text(page, encoding="utf-8")
    views["timeline"] = "timeline.html"
    workload = run.results.get("workload")
    if isinstance(workload, dict) and workload.get("valid") is False:
        if step:
            step("checking linearizability again for its failure view")
        from distlab.history import read_jsonl

        lin = write_lin_view(run.path, read_jsonl(run.path / "history.jsonl"), False)
        if lin is not None:
            views["linearizability"] = lin.name
        cycles = cycles_html(workload)
        if cycles:
            views["cycles"] = cycles
    return views


TIMELINE_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title><link rel="icon" href="data:,">
<style>body {{ font: 13px system-ui, sans-serif; margin: 12px; }}
.op.ok {{ background: #bfe6bf; }} .op.fail {{ background: #f6c3c3; }} .op.info {{ background: #ffe39a; }}</style>
</head><body><h1 style="font-size:16px">{title}</h1>
<p>One column per client process, time downwards; each bar runs from invocation to completion:
green ok, red fail, yellow unknown (info). Hover for the operation; shaded bands are faults.</p>
{body}</body></html>
"""


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
