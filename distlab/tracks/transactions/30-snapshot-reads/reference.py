"""Read-only transactions that never lock and never abort: multi-version keys and timestamps.

Keys live on their owners (key mod node count). Read-write transactions use the
two-phase commit of transactions/two-phase-commit (lock and read at prepare,
write and unlock at commit), and take a commit timestamp from lin-tso once every
owner has said yes. An owner keeps every committed version of a key with its
timestamp. Locks held from prepare to commit make timestamps follow the order of
conflicting commits.

A read-only transaction takes a read timestamp from lin-tso and asks each owner
for the latest versions at or below it. The one danger is a transaction
prepared here whose commit timestamp may still come out below ours: so an owner
answers only when none of the keys asked for is locked. It waits, never refuses:
read-only transactions never abort and never block a writer.
"""

import asyncio
import bisect

from distlab import Node, RPCError

node = Node()
versions: dict[str, list] = {}  # key -> [[commit ts, list], ...] in timestamp order
locks: dict[str, str] = {}  # key -> id of the transaction holding it
sequence = 0
TRIES = 20


def owner(key) -> str:
    return node.node_ids[int(key) % len(node.node_ids)]


def latest(key: str, ts: float = float("inf")) -> list:
    """The key's list at timestamp ts (the newest version at or below it)."""
    found = versions.get(key, [])
    i = bisect.bisect_right([v[0] for v in found], ts)
    return found[i - 1][1] if i else []


def prepare_here(txid: str, keys: list[str]) -> dict | None:
    if any(locks.get(key, txid) != txid for key in keys):
        return None
    for key in keys:
        locks[key] = txid
    return {key: latest(key) for key in keys}


def finish_here(txid: str, ts: int | None, appends: list) -> None:
    """Install the new versions at timestamp ts (None: abort) and release txid's locks."""
    if ts is not None:
        lists = {}
        for key, value in appends:
            lists[key] = lists.get(key, latest(key)) + [value]
        for key, new in lists.items():
            versions.setdefault(key, []).append([ts, new])
    for key in [key for key, holder in locks.items() if holder == txid]:
        del locks[key]


async def read_here(keys: list[str], ts: int) -> dict:
    while any(key in locks for key in keys):  # a prepared writer may commit below ts: wait
        await asyncio.sleep(0.002)
    return {key: latest(key, ts) for key in keys}


@node.on("prepare")
def prepare(msg):
    values = prepare_here(msg.body["txid"], msg.body["keys"])
    return {"type": "prepare_ok", "ok": values is not None, "values": values or {}}


@node.on("commit")
def commit(msg):
    finish_here(msg.body["txid"], msg.body["ts"], msg.body["appends"])
    return {"type": "commit_ok"}


@node.on("read_at")
async def read_at(msg):
    return {"type": "read_at_ok", "values": await read_here(msg.body["keys"], msg.body["ts"])}


async def call(where: str, body: dict) -> dict:
    """This node's own handler for its keys, or an RPC to their owner."""
    if where == node.id:
        if body["type"] == "prepare":
            values = prepare_here(body["txid"], body["keys"])
            return {"ok": values is not None, "values": values or {}}
        if body["type"] == "read_at":
            return {"values": await read_here(body["keys"], body["ts"])}
        finish_here(body["txid"], body["ts"], body["appends"])
        return {}
    return (await node.rpc(where, body, timeout=1.0)).body


async def timestamp() -> int:
    return (await node.rpc("lin-tso", {"type": "ts"}, timeout=1.0)).body["ts"]


def run(txn: list, view: dict) -> tuple[list, list]:
    """The micro-ops' results on `view` (key -> list), and the appends made."""
    result, appends = [], []
    for kind, key, value in txn:
        if kind == "r":
            result.append(["r", key, list(view[str(key)]) or None])
        else:
            view[str(key)] = view[str(key)] + [value]
            appends.append([str(key), value])
            result.append(["append", key, value])
    return result, appends


@node.on("txn")
async def transact(msg):
    global sequence
    txn = msg.body["txn"]
    groups: dict[str, list[str]] = {}
    for key in sorted({str(key) for _, key, _ in txn}):
        groups.setdefault(owner(key), []).append(key)
    if all(kind == "r" for kind, _, _ in txn):
        ts = await timestamp()
        answers = await asyncio.gather(*(call(where, {"type": "read_at", "keys": keys, "ts": ts})
                                         for where, keys in groups.items()))
        view = {key: value for answer in answers for key, value in answer["values"].items()}
        return {"type": "txn_ok", "txn": run(txn, view)[0]}
    for _ in range(TRIES):
        sequence += 1
        txid = f"{node.id}-{sequence}"
        answers = await asyncio.gather(*(call(where, {"type": "prepare", "txid": txid, "keys": keys})
                                         for where, keys in groups.items()))
        if all(answer["ok"] for answer in answers):
            view = {key: value for answer in answers for key, value in answer["values"].items()}
            result, appends = run(txn, view)
            ts = await timestamp()
            await asyncio.gather(*(call(where, {"type": "commit", "txid": txid, "ts": ts,
                                                "appends": [a for a in appends if a[0] in keys]})
                                   for where, keys in groups.items()))
            return {"type": "txn_ok", "txn": result}
        await asyncio.gather(*(call(where, {"type": "commit", "txid": txid, "ts": None, "appends": []})
                               for where in groups))
        await asyncio.sleep(node.random.uniform(0.0, 0.02))
    raise RPCError(30, "could not lock the keys: try again")


if __name__ == "__main__":
    node.run()
