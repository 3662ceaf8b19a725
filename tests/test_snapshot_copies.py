"""A state machine's snapshot is a copy: the Raft core keeps it to send to followers that
lag behind, so commands applied after it was taken must not show in it. (kvraft's and the
shard controller's shared their live session table: a follower installing the snapshot
would believe commands applied whose effects the snapshot's data lacks, and skip them.)"""

from __future__ import annotations

import orjson

from distlab.systems.kvraft import node as kvraft
from distlab.systems.raft import Entry
from distlab.systems.shardctrler import node as shardctrler
from distlab.systems.shardctrler.rebalance import Controller


def test_kvraft_snapshot_does_not_run_ahead_of_its_data() -> None:
    sm = object.__new__(kvraft.KVRaft)
    sm.kv, sm.sessions, sm.results = {}, {}, {}
    sm.apply(Entry(1, 1, {"c": "c1", "id": 1, "op": "write", "k": 1, "v": 1}))
    snap = sm.snapshot()
    before = orjson.dumps(snap)
    sm.apply(Entry(2, 1, {"c": "c1", "id": 2, "op": "write", "k": 1, "v": 2}))
    sm.apply(Entry(3, 1, {"c": "c2", "id": 1, "op": "write", "k": 2, "v": 3}))
    assert orjson.dumps(snap) == before
    assert snap["sessions"] == {"c1": [1, {"type": "write_ok"}]} and snap["kv"] == [[1, 1]]


def test_shardctrler_snapshot_does_not_run_ahead_of_its_configs() -> None:
    sm = object.__new__(shardctrler.ShardCtrler)
    sm.ctl = Controller()
    sm.sessions, sm.results = {}, {}
    sm.apply(Entry(1, 1, {"c": "c1", "id": 1, "op": "join", "groups": {"1": ["a"]}}))
    snap = sm.snapshot()
    before = orjson.dumps(snap)
    sm.apply(Entry(2, 1, {"c": "c1", "id": 2, "op": "join", "groups": {"2": ["b"]}}))
    assert orjson.dumps(snap) == before
