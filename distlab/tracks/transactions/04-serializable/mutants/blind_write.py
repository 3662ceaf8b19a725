"""Mistake: reads the database, runs the transaction, then writes the result back without cas.

Two transactions that read the same version both install their copy: the second
silently undoes the first one's writes.
"""

from distlab import Node, RPCError

node = Node()
ROOT = "db"


async def kv(body: dict) -> dict:
    return (await node.rpc("lin-kv", body, timeout=1.0)).body


async def load() -> dict:
    try:
        return (await kv({"type": "read", "key": ROOT}))["value"]
    except RPCError as exc:
        if exc.code == 20:
            return {}
        raise


def run(db: dict, txn: list) -> tuple[dict, list]:
    """The transaction on a copy of db: (the new database, the completed micro-ops)."""
    new, result = dict(db), []
    for kind, key, value in txn:
        if kind == "r":
            result.append(["r", key, new.get(str(key))])
        else:
            new[str(key)] = value
            result.append(["w", key, value])
    return new, result


@node.on("txn")
async def transact(msg):
    while True:
        db = await load()
        new, result = run(db, msg.body["txn"])
        if new == db:
            return {"type": "txn_ok", "txn": result}
        await kv({"type": "write", "key": ROOT, "value": new})
        return {"type": "txn_ok", "txn": result}


if __name__ == "__main__":
    node.run()
