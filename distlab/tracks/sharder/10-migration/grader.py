"""Runs 6.824 lab 4B's migration tests (distlab/systems/shardkv/lab.py) on the learner's
node file: servers that missed configuration changes, appends while groups join and leave,
a lossy network, and shards moving under retried requests (sessions move with shards)."""

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
SCENARIOS = ["4b_miss_change", "4b_concurrent1", "4b_unreliable1", "4b_unreliable_churn",
             "4b_snapshot_resend", "4b_migration_resend"]


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int, store: str = "store") -> str | None:
    try:
        return kit.run_lab("kv", target, name, seed, store)  # type: ignore[no-any-return]
    except kit.Wrong as exc:
        return str(exc)
