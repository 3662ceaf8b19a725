"""Grades a coordinator by 6.824's map-parallelism, reduce-parallelism and job-count checks
(distlab mr-test, apps' sleeps at a tenth) run with distlab's workers."""

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

scenarios, run = kit.program_grader("coordinator", dict.fromkeys(["map-parallelism", "reduce-parallelism", "job-count"], kit.Settings(time_scale=0.2, task_timeout=0.5, check_timeout=10.0)))
