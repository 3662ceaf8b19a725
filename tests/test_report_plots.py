"""The plots: valid PNG files of the promised size, drawn from the operations the history
holds (each paired invocation and completion, with its latency and outcome)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from distlab.examples import example_path
from distlab.options import TestOptions
from distlab.report.plots import PLOTS, STABLE, operations, stable_latency, write_plots
from distlab.report.rundir import RunDir
from distlab.runner import run_test

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; fails on anything that is not a PNG."""
    head = path.read_bytes()[:32]
    assert head[:8] == PNG_MAGIC, f"{path} is not a PNG"
    assert head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


@pytest.fixture(scope="module")
def broadcast_run(tmp_path_factory: pytest.TempPathFactory) -> RunDir:
    store = tmp_path_factory.mktemp("store")
    result = run_test(TestOptions(
        workload="broadcast", bin=str(example_path("broadcast")), node_count=3, time_limit=4.0, rate=20.0,
        nemesis=["partition"], nemesis_interval=1.0, seed=3, store=str(store),
    ))
    return RunDir.load(result.run_dir)


def test_every_plot_is_a_png_of_the_figure_size(broadcast_run: RunDir) -> None:
    written = write_plots(broadcast_run)
    assert [p.name for p in written] == [*PLOTS, STABLE]  # broadcast: the stable-latency plot too
    for path in written:
        assert path.parent == broadcast_run.path
        assert png_size(path) == (1000, 420)
        assert path.stat().st_size > 5000  # axes, points and legend, not a blank canvas


def test_operations_pair_invocations_with_completions() -> None:
    history = [
        {"process": 0, "type": "invoke", "f": "read", "time": 1_000_000_000},
        {"process": "nemesis", "type": "info", "f": "start-kill", "time": 1_100_000_000, "value": ["n1"]},
        {"process": 1, "type": "invoke", "f": "write", "time": 1_200_000_000},
        {"process": 0, "type": "ok", "f": "read", "time": 1_003_500_000},
        {"process": 1, "type": "info", "f": "write", "time": 6_200_000_000},
        {"process": 2, "type": "invoke", "f": "cas", "time": 7_000_000_000},  # never completed: not plotted
        {"process": 3, "type": "invoke", "f": "cas", "time": 7_000_000_000},
        {"process": 3, "type": "fail", "f": "cas", "time": 7_000_000_000},
    ]
    assert operations(history) == [(1.0, 3.5, "read", "ok"), (1.2, 5000.0, "write", "info"), (7.0, 0.0, "cas", "fail")]


def test_runs_without_operations_or_stable_latencies_still_plot(tmp_path: Path) -> None:
    run = RunDir(tmp_path, {"workload": "echo"}, {"valid": True, "workload": {"valid": True}}, [], None)
    written = write_plots(run)
    assert [p.name for p in written] == list(PLOTS)
    assert all(png_size(p) == (1000, 420) for p in written)
    assert stable_latency({"median": "x"}, tmp_path / STABLE, "broadcast") is None
