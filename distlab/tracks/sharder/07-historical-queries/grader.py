"""Runs 6.824 lab 4A's tests with servers shut down and restarted (distlab/systems/
shardctrler/lab.py) on the learner's node file: historical queries answered by every
server, the same configuration after the leader is shut down, partitions and restarts."""

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
SCENARIOS = ["4a_historical_queries", "4a_check_same_config_on_servers",
             "4a_concurrent_partitioned_restarts"]


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int, store: str = "store") -> str | None:
    try:
        return kit.run_lab("ctl", target, name, seed, store)  # type: ignore[no-any-return]
    except kit.Wrong as exc:
        return str(exc)
