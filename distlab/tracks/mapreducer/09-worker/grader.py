"""Grades a worker program by 6.824's checks (distlab mr-test) run with distlab's
coordinator: wc with 3 workers, early-exit (slow reduces at half 6.824's timings) and
crash (workers die or stall in a third of their tasks each)."""

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
FAST = kit.Settings(time_scale=0.1, task_timeout=0.5, check_timeout=15.0)
scenarios, run = kit.program_grader("worker", {
    "wc": FAST,
    "early-exit": kit.Settings(time_scale=0.5, task_timeout=5.0, check_timeout=8.0),
    "crash": FAST,
})
