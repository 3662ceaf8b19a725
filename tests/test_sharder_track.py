"""The Sharder course track (distlab/tracks/sharder): its graders tell the truth.

test_tracks.py verifies a fixed third of all tasks in CI; the module-graded tasks here
take a fraction of a second each, so all of them are verified here, and the node-graded
controller task (under two seconds). The rest checks the graders themselves: the brute
force that small rebalancing cases are graded against agrees with the closed form, the
rebalancing check accepts minimal answers and names what is wrong with bad ones, and
every starter fails its grade with a sentence instead of crashing it.
"""

from __future__ import annotations

import importlib.util
import itertools
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from distlab.systems.shardctrler.rebalance import min_moves, rebalance, rebuild
from distlab.tracks.catalogue import ROOT, load
from distlab.tracks.grading import grade, target_for
from distlab.tracks.verify import verify_task

TRACK = ROOT / "sharder"
MODULE_TASKS = ["key-to-shard", "rebalance-join", "rebalance-leave", "deterministic-ties",
                "configurations", "region-split", "balance", "heartbeats"]


def _load(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


kit = _load(TRACK / "kit.py", "_sharder_kit_test")


def test_brute_force_agrees_with_the_closed_form() -> None:
    """Every assignment of up to 6 shards over up to 3 groups, against up to 4 groups."""
    for n in range(1, 6):
        for shards in itertools.product([0, 1, 2, 3], repeat=n):
            for gids in ([1], [1, 2], [2, 3], [1, 2, 4], [4]):
                assert kit.brute_min_moves(list(shards), gids) == min_moves(list(shards), gids), (shards, gids)


def test_check_rebalance_accepts_minimal_answers() -> None:
    rng = random.Random(7)
    for _ in range(200):
        shards = rebalance([0] * 10, rng.sample(range(1, 12), rng.randrange(1, 6)))
        gids = rng.sample(range(1, 15), rng.randrange(0, 7))
        kit.check_rebalance(lambda s, g: rebalance(s, g), "case", shards, gids, min_moves(shards, gids))


@pytest.mark.parametrize("answer, words", [
    (rebuild, "moved 6 shards where 3 were enough"),
    (lambda s, g: [1] * 10, "not balanced"),
    (lambda s, g: list(s), "it left"),
    (lambda s, g: [1] * 9, "a list of 10 gids"),
])
def test_check_rebalance_names_what_is_wrong(answer: Any, words: str) -> None:
    shards = [1, 2, 1, 2, 1, 2, 1, 2, 1, 2]
    gids = [1, 3] if words == "it left" else [1, 2, 3]
    with pytest.raises(kit.Wrong, match=words):
        kit.check_rebalance(answer, "join of group 3", shards, gids, min_moves(shards, gids))


def test_a_learner_exception_is_a_sentence_naming_the_call() -> None:
    def broken(shards: list[int], gids: list[int]) -> list[int]:
        raise KeyError(7)

    with pytest.raises(kit.Wrong, match=r"rebalance\(\[0, 0\], \[1\]\) raised KeyError: 7"):
        kit.check_rebalance(broken, "first join", [0, 0], [1], 2)


@pytest.mark.parametrize("name", MODULE_TASKS + ["controller-node"])
def test_module_tasks_are_sound(name: str, tmp_path: Path) -> None:
    task = load(ROOT).task(f"sharder/{name}")
    assert task is not None
    verdict = verify_task(task, store=tmp_path)
    assert verdict.ok, "; ".join(verdict.problems)


@pytest.mark.parametrize("name", MODULE_TASKS + ["controller-node"])
def test_starters_fail_with_a_sentence(name: str, tmp_path: Path) -> None:
    task = load(ROOT).task(f"sharder/{name}")
    assert task is not None
    results = grade(task, target_for(task, task.folder / "starter.py"), store=tmp_path)
    failed = [r for r in results if not r.passed]
    assert failed, f"the starter of {name} passes its grade"
    for r in failed:
        assert r.reason and "Traceback" not in r.reason and "{'type'" not in r.reason, r.reason


def test_the_controller_starter_says_what_is_missing(tmp_path: Path) -> None:
    task = load(ROOT).task("sharder/controller-node")
    assert task is not None
    results = grade(task, target_for(task, task.folder / "starter.py"), store=tmp_path)
    assert "error 10 (not supported" in results[0].reason


def test_the_node_file_is_the_one_that_exec_s_the_node() -> None:
    """An exec'd node's functions still name the learner's file (what the lab must run)."""
    ref = _load(TRACK / "06-controller-node" / "reference.py", "_sharder_reference_test")
    assert kit.module_file(ref.start) == str(TRACK / "06-controller-node" / "reference.py")


def test_the_balance_and_split_graders_follow_the_references() -> None:
    """The graders' own rule functions agree with the reference solutions they grade."""
    bal = _load(TRACK / "13-balance" / "grader.py", "_sharder_balance_grader")
    ref = _load(TRACK / "13-balance" / "reference.py", "_sharder_balance_reference")
    rng = random.Random(3)
    for _ in range(300):
        n = rng.randrange(2, 7)
        regions = [ref.RegionInfo(r, rng.randrange(5, 60), tuple(rng.sample(range(1, n + 1), min(n, 3))))
                   for r in range(1, rng.randrange(2, 8))]
        stores = [ref.Store(s, rng.random() > 0.2, rng.randrange(0, 400)) for s in range(1, n + 1)]
        assert bal.want(stores, regions) == ref.balance(stores, regions)
    spl = _load(TRACK / "12-region-split" / "grader.py", "_sharder_split_grader")
    sref = _load(TRACK / "12-region-split" / "reference.py", "_sharder_split_reference")
    for _ in range(300):
        entries = [(f"k{i:03d}".encode(), rng.randrange(1, 50)) for i in range(rng.randrange(0, 40))]
        sp = rng.randrange(10, 200)
        assert spl.want_keys(entries, sp + 20, sp) == sref.split_keys(entries, sp + 20, sp)
