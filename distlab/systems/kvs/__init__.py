"""kvs: a bitcask-style log-structured key/value store (Talent Plan's PNA course, for real).

``KvStore`` is our engine; ``open_engine`` opens it or sqlite, lmdb, rocksdb behind one
interface; the ``kvs`` and ``kvs-server`` commands are in :mod:`distlab.systems.kvs.cli`. The
RESP server is in pieces: ``commands`` (what each command does), ``group_commit``, ``aio_server``
(the default) and ``pools`` (Talent Plan's thread pools), re-exported by ``server``.
"""

from distlab.systems.kvs.engines import (
    ENGINES,
    Engine,
    EngineMismatch,
    KeyNotFound,
    KvsError,
    open_engine,
)
from distlab.systems.kvs.store import KvStore

__all__ = [
    "ENGINES",
    "Engine",
    "EngineMismatch",
    "KeyNotFound",
    "KvStore",
    "KvsError",
    "open_engine",
]
