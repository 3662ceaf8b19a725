"""Transactions across keys that live on different nodes: two-phase commit with locks.

Each key has an owner (key mod node count) that keeps its value in memory.
The node a client asks coordinates: phase 1 sends each owner a `prepare` with
the keys it holds; the owner locks them (or refuses if another transaction holds
any) and answers with their values. Only when every owner has locked does the
coordinator run the transaction and, in phase 2, send each owner its writes in a
`commit`, which applies them and releases the locks. A refusal aborts: locks are
released and the transaction retried after a random pause, so two transactions
never wait for each other (no deadlock). Holding every lock, reads included,
from prepare to commit is two-phase locking: serializable, and strict because
each commit completes before the reply.
"""

import asyncio

from distlab import Node, RPCError

node = Node()
data: dict[str, int] = {}
locks: dict[str, str] = {}  # key -> id of the transaction holding it
sequence = 0
TRIES = 20


def owner(key) -> str:
    return node.node_ids[int(key) % len(node.node_ids)]


def prepare_here(txid: str, keys: list[str]) -> dict | None:
    """Lock every key (or none) and return their values; None if one is locked by another."""
    if any(locks.get(key, txid) != txid for key in keys):
        return None
    for key in keys:
        locks[key] = txid
    return {key: data.get(key) for key in keys}


def finish_here(txid: str, writes: dict) -> None:
    """Apply this transaction's writes and release its locks."""
    data.update(writes)
    for key in [key for key, holder in locks.items() if holder == txid]:
        del locks[key]


@node.on("prepare")
def prepare(msg):
    values = prepare_here(msg.body["txid"], msg.body["keys"])
    return {"type": "prepare_ok", "ok": values is not None, "values": values or {}}


@node.on("commit")
def commit(msg):
    finish_here(msg.body["txid"], msg.body["writes"])
    return {"type": "commit_ok"}


async def call(where: str, body: dict) -> dict:
    """One participant's answer: this node's own handler, or an RPC to another owner."""
    if where == node.id:
        if body["type"] == "prepare":
            values = prepare_here(body["txid"], body["keys"])
            return {"ok": values is not None, "values": values or {}}
        finish_here(body["txid"], body["writes"])
        return {}
    return (await node.rpc(where, body, timeout=1.0)).body


@node.on("txn")
async def transact(msg):
    global sequence
    txn = msg.body["txn"]
    groups: dict[str, list[str]] = {}
    for key in sorted({str(key) for _, key, _ in txn}):
        groups.setdefault(owner(key), []).append(key)
    for _ in range(TRIES):
        sequence += 1
        txid = f"{node.id}-{sequence}"
        answers = await asyncio.gather(*(call(where, {"type": "prepare", "txid": txid, "keys": keys})
                                         for where, keys in groups.items()))
        if all(answer["ok"] for answer in answers):
            view: dict = {}
            for answer in answers:
                view.update(answer["values"])
            result, writes = [], {}
            for kind, key, value in txn:
                if kind == "r":
                    result.append(["r", key, view[str(key)]])
                else:
                    view[str(key)] = writes[str(key)] = value
                    result.append(["w", key, value])
            await asyncio.gather(*(call(where, {"type": "commit", "txid": txid,
                                                "writes": {k: writes[k] for k in keys if k in writes}})
                                   for where, keys in groups.items()))
            return {"type": "txn_ok", "txn": result}
        # someone holds a lock: release ours (a commit with no writes), pause, try again
        await asyncio.gather(*(call(where, {"type": "commit", "txid": txid, "writes": {}})
                               for where in groups))
        await asyncio.sleep(node.random.uniform(0.0, 0.02))
    raise RPCError(30, "could not lock the keys: try again")


if __name__ == "__main__":
    node.run()
