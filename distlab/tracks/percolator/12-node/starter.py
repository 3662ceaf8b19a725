"""Percolator over lin-kv (one row per key) and lin-tso: fill in the TODOs, then `distlab check`.

This starter keeps no row and takes no timestamp: it answers every transaction from one
node's memory, so it is neither shared between nodes nor isolated.
"""

from __future__ import annotations

from typing import Any

from distlab import Node, RPCError  # noqa: F401 (raise RPCError(30, ...) for txn-conflict)
from distlab.systems.percolator import rows  # noqa: F401 (get, prewrite, commit, rollback, ...)

node = Node()
memory: dict[Any, Any] = {}


async def read_row(key: str) -> dict | None:
    """TODO: lin-kv read of "pc/" + key (None when it does not exist, error 20)."""
    return None


async def timestamp() -> int:
    """TODO: {"type": "ts"} to "lin-tso"."""
    return 0


@node.on("txn")
async def transact(msg: Any) -> dict[str, Any]:
    # TODO: start_ts, snapshot reads resolving locks, buffered writes, prewrite all,
    # commit the primary, then the secondaries.
    result = []
    for kind, key, value in msg.body["txn"]:
        if kind == "r":
            result.append(["r", key, memory.get(key)])
        else:
            memory[key] = value
            result.append([kind, key, value])
    return {"type": "txn_ok", "txn": result}


if __name__ == "__main__":
    node.run()
