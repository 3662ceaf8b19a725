"""Percolator (TiKV's optimistic transactions) on MVCC storage, sans-I/O.

Storage side: :mod:`codec` (TinyKV-exact key and record encodings), :mod:`mvcc` (locks, writes,
the per-request transaction), :mod:`storage` (memory and RocksDB engines), :mod:`latches`,
:mod:`server` (the KvGet ... KvResolveLock handlers). Client side: tso, client, rows (a key's
row in one lin-kv value), node (a Maelstrom node over lin-kv + lin-tso) and raft_node +
raft_groups (the same over data and oracle groups on distlab's Raft).
"""

from distlab.systems.percolator.codec import TS_MAX, decode_key, encode_key
from distlab.systems.percolator.latches import Latches
from distlab.systems.percolator.mvcc import Lock, MvccTxn, Write, WriteKind
from distlab.systems.percolator.server import Server
from distlab.systems.percolator.storage import (
    CF_DEFAULT,
    CF_LOCK,
    CF_WRITE,
    MemoryStorage,
    Modify,
    RocksStorage,
    Storage,
    open_storage,
)

__all__ = [
    "CF_DEFAULT",
    "CF_LOCK",
    "CF_WRITE",
    "TS_MAX",
    "Latches",
    "Lock",
    "MemoryStorage",
    "Modify",
    "MvccTxn",
    "RocksStorage",
    "Server",
    "Storage",
    "Write",
    "WriteKind",
    "decode_key",
    "encode_key",
    "open_storage",
]
