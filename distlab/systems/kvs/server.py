"""kvs-server: the kvs engines behind RESP, so redis-cli, redis-py and redis-benchmark work.

Two ways to serve, chosen with ``--pool``:

* ``asyncio`` (default, :mod:`~distlab.systems.kvs.aio_server`): one event loop, one
  :class:`asyncio.Protocol` per connection, engine calls in the loop thread.
* ``naive`` / ``shared-queue`` / ``futures`` (:mod:`~distlab.systems.kvs.pools`): Talent
  Plan's thread pools, one connection per job.

Both answer commands through :mod:`~distlab.systems.kvs.commands`: a pipeline in order,
``-ERR`` to unknown commands (the connection stays), ``-ERR Protocol error: ...`` to
malformed framing (then the connection closes). A reply is sent only after the engine call
returned, so with ``--fsync always`` (the default) an acknowledged write is on disk; the
asyncio server on the kvs engine gets there by group commit
(:mod:`~distlab.systems.kvs.group_commit`). The command line is
:func:`distlab.systems.kvs.cli.server_main`; this module re-exports the pieces and runs it
as ``python -m distlab.systems.kvs.server``.
"""

from __future__ import annotations

from distlab.systems.kvs.aio_server import AsyncServer
from distlab.systems.kvs.cli import POOLS, parse_addr
from distlab.systems.kvs.cli import server_main as main
from distlab.systems.kvs.commands import CommandHandler, Session, run_commands
from distlab.systems.kvs.group_commit import GroupCommit
from distlab.systems.kvs.pools import (
    FuturesThreadPool,
    NaiveThreadPool,
    SharedQueueThreadPool,
    ThreadedServer,
    ThreadPool,
    make_pool,
)

__all__ = [
    "POOLS",
    "AsyncServer",
    "CommandHandler",
    "FuturesThreadPool",
    "GroupCommit",
    "NaiveThreadPool",
    "Session",
    "SharedQueueThreadPool",
    "ThreadPool",
    "ThreadedServer",
    "main",
    "make_pool",
    "parse_addr",
    "run_commands",
]

if __name__ == "__main__":
    main()
