"""Runs 6.824 lab 4A's TestBasic sub-tests (distlab/systems/shardctrler/lab.py) on the
learner's node file: joins, leaves, moves and the fewest shards moved, through Raft."""

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
SCENARIOS = ["4a_basic_leave_join", "4a_move", "4a_multi_group_join_leave",
             "4a_minimal_transfers_after_joins", "4a_minimal_transfers_after_leaves"]


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int, store: str = "store") -> str | None:
    try:
        return kit.run_lab("ctl", target, name, seed, store)  # type: ignore[no-any-return]
    except kit.Wrong as exc:
        return str(exc)
