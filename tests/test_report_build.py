"""write_report: the same files whether the plots are drawn in a forked child or here,
and a failure in the child comes back as the report's one error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from distlab.examples import example_path
from distlab.options import TestOptions
from distlab.report import plots
from distlab.report.build import write_report
from distlab.report.rundir import ReportError
from distlab.runner import run_test


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("store")
    return run_test(TestOptions(
        workload="echo", bin=str(example_path("echo")), node_count=2, time_limit=2.0, rate=20.0, seed=5,
        store=str(store),
    )).run_dir


@pytest.mark.parametrize("parallel", [True, False])
def test_both_ways_write_the_same_files(run_dir: Path, tmp_path: Path, parallel: bool) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    steps: list[str] = []
    written = write_report(copy, steps.append, parallel=parallel)
    assert written.report == copy / "report.html" and written.diagram == copy / "messages.html"
    assert [p.name for p in written.plots] == list(plots.PLOTS)
    assert all(p.is_file() and p.read_bytes()[:4] == b"\x89PNG" for p in written.plots)
    assert written.messages == sum(1 for line in (copy / "messages.jsonl").open() if '"ev":"send"' in line)
    assert steps[0] == "reading history.jsonl" and steps[-1] == "writing report.html"


def test_a_failure_while_plotting_in_the_child_is_the_reports_error(
        run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("no ink")

    monkeypatch.setattr(plots, "write_plots", broken)  # the forked child inherits it
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    with pytest.raises(ReportError, match="drawing the plots failed: ValueError: no ink"):
        write_report(copy, parallel=True)


def test_a_bad_trace_stops_the_report_and_its_plotting_child(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    (copy / "messages.jsonl").write_text("nonsense\n")
    with pytest.raises(ReportError, match=r"messages.jsonl:1: not JSON"):
        write_report(copy, parallel=True)
    assert not (copy / "report.html").exists()
