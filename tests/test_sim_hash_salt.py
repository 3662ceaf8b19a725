"""The simulator salts hash() per node incarnation, as PYTHONHASHSEED does per process:
otherwise nodes sharing one interpreter agree on hash(key) and a design that breaks on a
real cluster passes."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from distlab.options import TestOptions
from distlab.runner import run_test
from distlab.runtime.sim.sandbox import _salt, salted_hash
from tests.conftest import node_path


def _hashes(seed: int, node: str = "n0"):
    return salted_hash(_salt(random.Random(seed), node))


def test_text_bytes_and_dates_vary_between_incarnations_but_not_within_one() -> None:
    a, b = _hashes(1), _hashes(2)
    for obj in ("key", b"key", ("k", 1), frozenset({"x"}), (("a",), 2)):
        assert a(obj) == a(obj)
        assert a(obj) != b(obj), obj


def test_what_python_does_not_salt_keeps_its_real_hash() -> None:
    a = _hashes(1)
    for obj in (5, -1, 2**70, 1.5, None, True, (1, 2), frozenset({3}), ()):
        assert a(obj) == hash(obj), obj
    thing = object()
    assert a(thing) == hash(thing)


def test_the_salt_follows_the_seed_and_the_node() -> None:
    assert _hashes(7)("k") == _hashes(7)("k")  # a replay hashes alike
    assert _hashes(7, "n0")("k") != _hashes(7, "n1")("k")


def test_equal_objects_hash_alike() -> None:
    a = _hashes(1)
    assert a(("a", 1)) == a(("a", 1.0)) == a(("a", True))
    assert a(frozenset({"x", "y"})) == a(frozenset(["y", "x"]))


def test_the_same_seed_hashes_alike_in_a_process_with_another_hash_seed() -> None:
    # a replay runs in another process, whose own PYTHONHASHSEED must not matter
    code = ("import random; from distlab.runtime.sim.sandbox import _salt, salted_hash; "
            "h = salted_hash(_salt(random.Random(7), 'n0')); print(h('k'), h(('k', 1)), h(frozenset({'a', 'b'})))")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "random")}
    assert len(outs) == 1
    h = _hashes(7)
    assert outs.pop().split() == [str(h("k")), str(h(("k", 1))), str(h(frozenset({"a", "b"})))]


def _run(tmp_path: Path, seed: int, *args: str) -> dict:
    opts = TestOptions(workload="lin-kv", bin=node_path("owner_by_hash"), bin_args=list(args),
                       node_count=3, time_limit=5.0, rate=50.0, seed=seed,
                       store=str(tmp_path / "store"), mode="sim")
    return run_test(opts).results


@pytest.mark.parametrize("seed", [3, 4])
def test_owners_by_hash_disagree_and_the_run_is_caught(tmp_path: Path, seed: int) -> None:
    # known-bad: each node picks a key's owner by hash(str(key)); on a real cluster every
    # process salts it differently, so two owners hold a key and reads go stale
    assert _run(tmp_path, seed)["workload"]["valid"] is False


@pytest.mark.parametrize("seed", [3, 4])
def test_owners_by_a_stable_hash_pass(tmp_path: Path, seed: int) -> None:
    # known-good: the same design with zlib.crc32 agrees everywhere
    assert _run(tmp_path, seed, "crc")["workload"]["valid"] is True
