"""Strictly serializable list-append on lin-kv, read-only transactions included.

Every transaction, even one that only reads, starts from a fresh read of the
database in lin-kv. A copy kept from an earlier transaction would be a state
that did exist, so the history would still be serializable, but not strictly:
a client that saw its append acknowledged could then read a state without it.
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
            new[str(key)] = new.get(str(key), []) + [value]  # a new list: `db` stays as read
            result.append(["append", key, value])
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
