"""A simulated run ends with tasks its nodes spawned but never started (a periodic loop
spawned by a node killed or stopped at once): closing the loop must not leave them to warn
"coroutine ... was never awaited" on a learner's screen when they are collected."""

from __future__ import annotations

import gc
import warnings
from pathlib import Path

from distlab.systems.kvraft.lab import SCENARIOS, Lab

NODE = str(Path(__file__).resolve().parents[1] / "distlab" / "systems" / "kvraft" / "node.py")


def test_a_run_with_kills_leaves_no_coroutine_never_awaited(tmp_path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name, offset in (("3a_persist_one_client", 6), ("3b_snapshot_recover", 6), ("3a_persist_concurrent", 2)):
            SCENARIOS[name](Lab(NODE, store=str(tmp_path / name), seed_offset=offset))
            gc.collect()
        gc.collect()
    never = [str(w.message) for w in caught if "never awaited" in str(w.message)]
    assert not never, never
