"""Grades a coordinator by 6.824's crash check (distlab mr-test): workers die or stall in a
third of their tasks each, a 0.5 s task timeout, the output must equal nocrash's."""

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

scenarios, run = kit.program_grader("coordinator", dict.fromkeys(["crash", "wc"], kit.Settings(time_scale=0.1, task_timeout=0.5, check_timeout=15.0)))
