"""Grades backup tasks: the learner's coordinator with distlab's workers on an app whose
map of one file stalls on its first run, a task timeout far longer than the job may take;
the job must end early with the right answer, without running maps over and over."""

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


def scenarios() -> list[str]:
    return ["one straggling map, 3 workers"]


def run(name: str, target: object, seed: int) -> str | None:
    return kit.straggler_check(target, seed)  # type: ignore[no-any-return]
