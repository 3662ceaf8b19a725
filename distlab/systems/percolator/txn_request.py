"""A Maelstrom `txn` request served as one Percolator transaction, for both Percolator
nodes (node.py over lin-kv, raft_node.py over Raft groups): the same reply to the same
outcome whatever holds the rows.

The request's operations run at one snapshot (start_ts): a read sees it plus the
transaction's own earlier writes; a list append reads the list and writes it back whole,
so two concurrent appends to one key conflict (first committer wins) rather than lose
one. The reply tells the truth: txn_ok once the primary committed, error 30 (definite)
when the transaction aborted, error 0 (indefinite) when the primary's commit went
unanswered, error 11 when nothing was prewritten (no timestamp, a read failed).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from distlab import RPCError
from distlab.protocol import TEMPORARILY_UNAVAILABLE, TIMEOUT, TXN_CONFLICT
from distlab.systems.percolator.client import (
    COMMITTED,
    UNKNOWN,
    AsyncClient,
    TransportError,
    TsoTimeout,
    Txn,
    TxnError,
)


async def read(client: AsyncClient, txn: Txn, key: bytes) -> Any:
    """A key's JSON value at the transaction's snapshot (None if it has none)."""
    value = await client.get(txn, key)
    return None if value is None else json.loads(value)


async def transact(client: AsyncClient, ops: list[list[Any]], ttl: int,
                   before_commit: Callable[[Txn], Awaitable[None]] | None = None) -> dict[str, Any]:
    """Run `ops` ([kind, key, value] each: r, w or append) as one transaction with lock
    TTL `ttl` ms; `before_commit` may end it between the reads and the commit (by
    raising the reply's RPCError). The txn_ok reply, or the RPCError that tells the
    outcome."""
    try:
        txn = await client.begin()
    except TsoTimeout as exc:
        raise RPCError(TEMPORARILY_UNAVAILABLE, f"no timestamp: {exc}") from exc
    txn.ttl = ttl
    own: dict[bytes, Any] = {}  # this transaction's writes, for read-your-writes
    result = []
    try:
        for kind, k, v in ops:
            key = str(k).encode()
            if kind == "r":
                result.append(["r", k, own[key] if key in own else await read(client, txn, key)])
                continue
            if kind == "append":
                current = own[key] if key in own else await read(client, txn, key)
                own[key] = (current or []) + [v]
            else:
                own[key] = v
            txn.set(key, json.dumps(own[key]).encode())
            result.append([kind, k, v])
    except (TransportError, TsoTimeout, TxnError) as exc:
        # Nothing is prewritten before commit: a failed read is a definite failure.
        raise RPCError(TEMPORARILY_UNAVAILABLE, f"read failed: {exc}") from exc
    if before_commit is not None:
        await before_commit(txn)
    outcome = await client.commit(txn)
    if outcome == COMMITTED:
        return {"type": "txn_ok", "txn": result}
    if outcome == UNKNOWN:
        raise RPCError(TIMEOUT, "the primary's commit went unanswered: the transaction may have committed")
    raise RPCError(TXN_CONFLICT, f"transaction {txn.start_ts} aborted (a conflicting write, or a lost commit)")
