"""Runs 6.824 lab 4B's challenges (distlab/systems/shardkv/lab.py) on the learner's node
file: shards handed away are deleted (challenge 1), shards not affected by a change and
shards already received are served while others are still missing (challenge 2)."""

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
SCENARIOS = ["4b_challenge1_delete", "4b_challenge2_unaffected", "4b_challenge2_partial"]


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int, store: str = "store") -> str | None:
    try:
        return kit.run_lab("kv", target, name, seed, store)  # type: ignore[no-any-return]
    except kit.Wrong as exc:
        return str(exc)
