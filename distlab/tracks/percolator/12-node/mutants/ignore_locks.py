"""Percolator as a Maelstrom node: transactions over lin-kv (rows) and lin-tso (timestamps).

The nodes hold no state. Each user key is one lin-kv value holding its whole row -- lock,
write records, data -- as the Percolator paper keeps a row in Bigtable, and each storage
handler (the rules of your Server, one row at a time: distlab.systems.percolator.rows) is a
read, compute, compare-and-set of one row. The client protocol (prewrite all, commit the
primary, then the secondaries; reads that resolve locks) is the one of the last two tasks,
driven with awaits (distlab.systems.percolator.client.AsyncClient).

Replies tell the truth: txn_ok once the primary committed; error 30 when the transaction
certainly aborted; error 0 (indefinite) when the primary's commit went unanswered.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from distlab import Node, RPCError
from distlab.systems.percolator import rows
from distlab.systems.percolator.client import (
    COMMITTED,
    UNKNOWN,
    AsyncClient,
    RequestLost,
    ResponseLost,
    TransportError,
    TsoTimeout,
    Txn,
    TxnError,
)

KEY_DOES_NOT_EXIST, PRECONDITION_FAILED = 20, 22
TIMEOUT, TEMPORARILY_UNAVAILABLE, TXN_CONFLICT = 0, 11, 30
SERVICE_TIMEOUT = 0.5  # seconds before a lin-kv / lin-tso request counts as lost
CAS_TRIES = 30
_ABSENT = {"absent": True}  # a cas `from` no row ever equals: with create_if_not_exists it creates


MUTANTS: frozenset[str] = frozenset({"ignore-locks"})  # a read that meets a lock reads nothing
TTL = 1500  # ms a lock protects a live transaction from its readers

node = Node()


class LinKVRows:
    """The Server's dict API (rows.RowServer's, resolve-lock-lite included) over lin-kv.

    A row update is read, compute, cas; a failed cas means someone else changed
    the row first, so it is read again. A service timeout before any cas was
    sent is RequestLost (nothing changed); after a cas was sent it is
    ResponseLost (the cas may have landed) -- which is what lets the client tell
    "aborted" from "unknown" for the primary's commit.
    """

    def now_ms(self) -> int:
        return int(node.now() * 1000)

    async def _read(self, key: str) -> rows.Row | None:
        try:
            reply = await node.rpc("lin-kv", {"type": "read", "key": "pc/" + key}, timeout=SERVICE_TIMEOUT)
        except RPCError as exc:
            if exc.code == KEY_DOES_NOT_EXIST:
                return None
            raise RequestLost(f"lin-kv read: {exc}") from exc
        return reply.body["value"]  # type: ignore[no-any-return]

    async def _update(self, key: str, fn: Any) -> Any:
        sent_cas = False
        for _ in range(CAS_TRIES):
            try:
                old = await self._read(key)
            except RequestLost:
                if sent_cas:
                    raise ResponseLost("lin-kv read after a cas") from None
                raise
            base = old if old is not None else rows.empty_row()
            new, out = fn(base)
            if new == base:
                return out
            body = {"type": "cas", "key": "pc/" + key, "from": old if old is not None else _ABSENT,
                    "to": new, "create_if_not_exists": old is None}
            sent_cas = True
            try:
                await node.rpc("lin-kv", body, timeout=SERVICE_TIMEOUT)
                return out
            except RPCError as exc:
                if exc.code not in (PRECONDITION_FAILED, KEY_DOES_NOT_EXIST):
                    raise ResponseLost(f"lin-kv cas: {exc}") from exc
        raise ResponseLost(f"row {key!r} kept changing under {CAS_TRIES} cas attempts")

    async def call(self, method: str, req: dict[str, Any]) -> dict[str, Any]:
        t = rows.text
        if method == "kv_get":
            key = t(req["key"])
            return rows.get(await self._read(key) or rows.empty_row(), key, req["version"])
        if method == "kv_prewrite":
            primary, start, now = t(req["primary_lock"]), req["start_version"], self.now_ms()
            errors = []
            for m in req["mutations"]:
                key = t(m["key"])
                err = await self._update(key, lambda row, key=key, m=m: rows.prewrite(
                    row, key, m, primary, start, req.get("lock_ttl", 0), now))
                if err:
                    errors.append(err)
            return {"errors": errors}
        if method == "kv_check_txn_status":
            now = self.now_ms()
            return await self._update(  # type: ignore[no-any-return]
                t(req["primary_key"]), lambda row: rows.check_txn_status(row, req["lock_ts"], now))
        step = {
            "kv_commit": lambda row: rows.commit(row, req["start_version"], req["commit_version"]),
            "kv_batch_rollback": lambda row: rows.rollback(row, req["start_version"]),
            "kv_resolve_lock": lambda row: rows.resolve(row, req["start_version"], req["commit_version"]),
        }[method]
        for k in req.get("keys") or []:
            err = await self._update(t(k), step)
            if err:
                return {"error": err}
        return {"error": None}


store = LinKVRows()


async def oracle() -> int:
    try:
        reply = await node.rpc("lin-tso", {"type": "ts"}, timeout=SERVICE_TIMEOUT)
    except RPCError as exc:
        raise ResponseLost(f"lin-tso: {exc}") from exc
    return int(reply.body["ts"])


client = AsyncClient(store.call, oracle, asyncio.sleep, MUTANTS)


async def read(txn: Txn, key: bytes) -> Any:
    value = await client.get(txn, key)
    return None if value is None else json.loads(value)


@node.on("txn")
async def transact(msg: Any) -> dict[str, Any]:
    try:
        txn = await client.begin()
    except TsoTimeout as exc:
        raise RPCError(TEMPORARILY_UNAVAILABLE, f"no timestamp: {exc}") from exc
    txn.ttl = TTL
    own: dict[bytes, Any] = {}  # this transaction's writes, for read-your-writes
    result = []
    try:
        for kind, k, v in msg.body["txn"]:
            key = str(k).encode()
            if kind == "r":
                result.append(["r", k, own[key] if key in own else await read(txn, key)])
                continue
            if kind == "append":
                current = own[key] if key in own else await read(txn, key)
                own[key] = (current or []) + [v]
            else:
                own[key] = v
            txn.set(key, json.dumps(own[key]).encode())
            result.append([kind, k, v])
    except (TransportError, TsoTimeout, TxnError) as exc:
        # Nothing is prewritten before commit: a failed read is a definite failure.
        raise RPCError(TEMPORARILY_UNAVAILABLE, f"read failed: {exc}") from exc
    outcome = await client.commit(txn)
    if outcome == COMMITTED:
        return {"type": "txn_ok", "txn": result}
    if outcome == UNKNOWN:
        raise RPCError(TIMEOUT, "the primary's commit went unanswered: the transaction may have committed")
    raise RPCError(TXN_CONFLICT, f"transaction {txn.start_ts} aborted (a conflicting write, or a lost commit)")


if __name__ == "__main__":
    node.run()
