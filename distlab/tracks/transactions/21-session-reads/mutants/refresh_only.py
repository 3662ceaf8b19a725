"""Mistake: keeps the local snapshot fresh with a background refresh every 500 ms only.

The snapshot does not include this node's own commits until the next refresh,
so a client that just appended reads a state without its append.
"""

from distlab import Node, RPCError

node = Node()
ROOT = "db"
cache: dict = {}  # refreshed from lin-kv every 500 ms


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
    if all(kind == "r" for kind, _, _ in msg.body["txn"]):
        _, result = run(cache, msg.body["txn"])  # read-only: no round trip to lin-kv
        return {"type": "txn_ok", "txn": result}
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


async def refresh() -> None:
    global cache
    try:
        cache = await load()
    except RPCError:
        pass


node.every(0.5, lambda: node.spawn(refresh()))

if __name__ == "__main__":
    node.run()
