"""Serializable transactions on lin-kv: the whole database is one value, swapped by compare-and-set.

A transaction reads the current database from lin-kv, runs against a private copy,
and installs the copy with `cas` from the value it read. If another transaction
installed something in between, the cas fails (error 22) and the transaction
reruns on the new value. Every committed transaction therefore ran alone on the
state its predecessor left: strictly serializable, because lin-kv is linearizable.
Read-only transactions commit without a write: the value they read was current.
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
        try:
            await kv({"type": "cas", "key": ROOT, "from": db, "to": new, "create_if_not_exists": True})
            return {"type": "txn_ok", "txn": result}
        except RPCError as exc:
            if exc.code != 22:
                raise  # the transaction may or may not have committed: the client learns it failed


if __name__ == "__main__":
    node.run()
