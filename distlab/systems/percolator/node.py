"""Percolator as a Maelstrom node: transactions over lin-kv (rows) and lin-tso (the oracle).

Run: distlab test -w txn-rw-register --bin distlab/systems/percolator/node.py \
         --consistency-models snapshot-isolation --node-count 3 --time-limit 20 \
         --rate 30 --nemesis partition
     (or -w txn-list-append; or under real Maelstrom with the same file)

The nodes hold no state: each is a Percolator *client* (the protocol of
client.py), and the data lives in lin-kv, one value per user key holding the
whole row -- lock, write records, data -- as the Percolator paper keeps a row in
Bigtable. Each handler is a read then compare-and-set of one row (rows.py), the
single-row transaction the protocol needs; timestamps come from lin-tso. So a
node that crashes or is cut off between prewrite and commit leaves locks that
any other node resolves when it meets them (after their TTL, by the node's own
clock: a skewed clock can only roll a live transaction back early, which
aborts it, never breaks isolation).

Each `txn` request is one Percolator transaction at one snapshot: reads see
start_ts plus the transaction's own earlier writes; a list append reads the
list and writes it back whole, so two concurrent appends to one key conflict
(first committer wins) rather than lose one. Replies tell the truth about the
outcome: txn_ok once the primary committed; error 30 (txn-conflict, definite)
when it aborted; error 0 (timeout, indefinite) when the primary's commit went
unanswered -- the transaction may have committed. (Not 13, crash: that code
says the handler raised, and the runner counts it against the node.)

Guarantee: snapshot isolation. Write skew (G2-item) is allowed, as in TiKV.

Arguments (after the file name):
  --mutants=a,b   client mutants (client.MUTANTS) to show they are caught
  --ttl=MS        lock TTL (1500)
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from distlab import Node, RPCError
from distlab.systems.percolator import rows, txn_request
from distlab.systems.percolator.client import AsyncClient, RequestLost, ResponseLost

KEY_DOES_NOT_EXIST, PRECONDITION_FAILED = 20, 22
SERVICE_TIMEOUT = 0.5  # seconds before a lin-kv / lin-tso request counts as lost
CAS_TRIES = 30
_ABSENT = {"absent": True}  # a cas `from` no row ever equals: with create_if_not_exists it creates


def _flag(name: str, default: str = "") -> str:
    for arg in sys.argv[1:]:
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return default


MUTANTS = frozenset(m for m in _flag("--mutants").split(",") if m)
TTL = int(_flag("--ttl", "1500"))

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


@node.on("txn")
async def transact(msg: Any) -> dict[str, Any]:
    return await txn_request.transact(client, msg.body["txn"], TTL)


if __name__ == "__main__":
    node.run()
