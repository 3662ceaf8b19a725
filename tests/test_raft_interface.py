"""`RaftLike` (distlab/systems/raft/interface.py): what the tester calls on a learner's
Raft, and the check that names what a node lacks or gets wrong before anything runs."""

from __future__ import annotations

import random

from distlab.systems.raft import Persisted, RaftCore
from distlab.systems.raft.interface import LogLike, RaftLike, ReadsAndSnapshots, check_raft
from tests.nodes import raft_plugins


def build(factory: object) -> object:
    return factory("s0", ["s0", "s1", "s2"], random.Random(0), Persisted())  # type: ignore[operator]


def test_distlabs_core_and_the_adapter_fit() -> None:
    for node in (RaftCore("s0", ["s0", "s1"], random.Random(0)), build(raft_plugins.correct)):
        assert isinstance(node, RaftLike) and isinstance(node, ReadsAndSnapshots)
        assert isinstance(node.log, LogLike)  # type: ignore[attr-defined]
        assert check_raft(node) is None


def test_optional_methods_set_to_none_are_not_mistyped() -> None:
    assert check_raft(build(raft_plugins.no_snapshots)) is None


def test_missing_members_are_named_in_the_tester_order() -> None:
    problem = check_raft(raft_plugins.Incomplete())
    assert problem is not None and "\n" not in problem
    assert problem.startswith("the node lacks step, propose, has_ready, ready, advance, status, log")
    assert not isinstance(raft_plugins.Incomplete(), RaftLike)


def test_mistyped_members_are_named() -> None:
    problem = check_raft(build(raft_plugins.mistyped))
    assert problem is not None and "\n" not in problem
    assert "tick is a int, not a method" in problem
    assert "step() cannot be called as step(message)" in problem
    assert "log lacks term_at" in problem


def test_missing_and_mistyped_together() -> None:
    problem = check_raft(raft_plugins.HalfDone())
    assert problem is not None
    assert problem.startswith("the node lacks has_ready, advance; ")
    assert "propose() cannot be called as propose(command)" in problem
    assert "status() lacks 'commit'" in problem
