"""Grades a coordinator program by three of 6.824's checks (distlab mr-test) run with distlab's
workers: wc with 3 workers and indexer with 2, each output equal to the sequential one, and
early-exit (slow reduces at half 6.824's timings: nothing may exit before the job is over)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any


def _kit() -> Any:
    spec = importlib.util.spec_from_file_location("_mapreducer_kit", Path(__file__).resolve().parent.parent / "kit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kit = _kit()

scenarios, run = kit.program_grader("coordinator", dict.fromkeys(["wc", "indexer", "early-exit"], kit.Settings(time_scale=0.5, task_timeout=0.5, check_timeout=8.0)))
