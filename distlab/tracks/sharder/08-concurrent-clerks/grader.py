"""Runs 6.824 lab 4A's concurrent tests (distlab/systems/shardctrler/lab.py) on the
learner's node file: ten clerks at once, on a reliable and on a lossy, duplicating
network (a resent join must be applied once)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any


def _kit() -> Any:
    spec = importlib.util.spec_from_file_location("_sharder_kit", Path(__file__).resolve().parent.parent / "kit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kit = _kit()
SCENARIOS = ["4a_concurrent_leave_join", "4a_concurrent_multi_leave_join",
             "4a_concurrent_unreliable", "4a_concurrent_multi_unreliable"]


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int, store: str = "store") -> str | None:
    try:
        return kit.run_lab("ctl", target, name, seed, store)  # type: ignore[no-any-return]
    except kit.Wrong as exc:
        return str(exc)
