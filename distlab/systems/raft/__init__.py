"""Raft as a sans-I/O state machine: `RaftCore` takes messages and ticks, gives `Ready` batches.

See `core.py` for the contract (persist, then send, then apply, then `advance`) and
`distlab/systems/kvraft/node.py` for a runtime that drives it through the SDK.
"""

from distlab.systems.raft.core import (
    CANDIDATE,
    FOLLOWER,
    LEADER,
    MUTANTS,
    PRE_CANDIDATE,
    Config,
    HardState,
    Message,
    NotLeader,
    Persisted,
    RaftCore,
    ReadState,
    Ready,
    Role,
)
from distlab.systems.raft.log import Entry, Log, Snapshot

__all__ = [
    "CANDIDATE",
    "FOLLOWER",
    "LEADER",
    "MUTANTS",
    "PRE_CANDIDATE",
    "Config",
    "Entry",
    "HardState",
    "Log",
    "Message",
    "NotLeader",
    "Persisted",
    "RaftCore",
    "ReadState",
    "Ready",
    "Role",
    "Snapshot",
]
