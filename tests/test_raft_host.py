"""RaftHost's contract: a system built on it supplies apply, snapshot and restore; one
that leaves any out fails when it is built, naming what is missing, not at its first
committed entry in the middle of a run."""

from __future__ import annotations

from typing import Any

import pytest

from distlab.systems.raft.host import RaftHost


def test_a_host_without_its_state_machine_cannot_be_built() -> None:
    class NoRestore(RaftHost):
        def apply(self, entry: Any) -> None: ...

        def snapshot(self) -> Any: ...

    with pytest.raises(TypeError, match="restore"):
        NoRestore(None, [])  # type: ignore[abstract, arg-type]


def test_the_systems_supply_all_three() -> None:
    from distlab.systems.kvraft.node import KVRaft
    from distlab.systems.percolator.raft_groups import Replica as PercolatorReplica
    from distlab.systems.shardctrler.node import ShardCtrler
    from distlab.systems.shardkv.node import Replica as ShardReplica

    for cls in (KVRaft, ShardCtrler, ShardReplica, PercolatorReplica):
        assert not cls.__abstractmethods__, cls
