"""`distlab report`'s work: read a run directory once, then (re)write its messages.html,
plots and report.html. Library callers (the runner, a future `distlab serve`) call
`write_report`; the CLI adds only progress and the one-line errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from distlab.report.rundir import RunDir


@dataclass
class Written:
    """The files one report wrote."""

    report: Path
    diagram: Path | None
    plots: list[Path]
    messages: int
    """Messages in the trace (the diagram's size)."""


def write_report(run_dir: Path | str, step: Callable[[str], None] | None = None) -> Written:
    """Write messages.html (when the run has a trace), the plots and report.html into
    `run_dir`. Raises ReportError for a directory that is not a readable run."""
    from distlab.report.diagram import diagram_data, render
    from distlab.report.page import write_page
    from distlab.report.plots import write_plots

    run = RunDir.load(run_dir, step)
    diagram = None
    count = 0
    if run.messages is not None:
        if step:
            step("drawing messages.html")
        data = diagram_data(run)
        count = data["counts"]["messages"]
        diagram = run.path / "messages.html"
        diagram.write_text(render(data), encoding="utf-8")
    plots = write_plots(run, step)
    if step:
        step("writing report.html")
    return Written(write_page(run, plots, diagram), diagram, plots, count)
