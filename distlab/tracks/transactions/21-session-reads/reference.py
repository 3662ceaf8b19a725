"""Strong session serializable list-append: read-only transactions served from a local snapshot.

Transactions that append commit on lin-kv by compare-and-set of the whole
database, as before. Read-only ones read the newest snapshot this node has seen,
with no round trip. Every client talks to one node, and that node adopts the
state of each commit it makes and of each fresh read, so a client's reads
always include its own earlier transactions and never go back in time (read
your writes, monotonic reads). They may miss other clients' recent commits,
which serializability allows but strict serializability would not.
"""

from distlab import Node, RPCError

node = Node()
ROOT = "db"
cache: dict = {}  # the newest database this node has read or written


def size(db: dict) -> int:
    """Appends only grow lists: of two states of one history, the later is the larger."""
    return sum(len(values) for values in db.values())


def adopt(db: dict) -> None:
    """Move the snapshot forward only, even if replies arrive out of order."""
    global cache
    if size(db) >= size(cache):
        cache = db


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
        _, result = run(cache, msg.body["txn"])  # read-only: the local snapshot
        return {"type": "txn_ok", "txn": result}
    while True:
        db = await load()
        adopt(db)
        new, result = run(db, msg.body["txn"])
        if new == db:
            return {"type": "txn_ok", "txn": result}
        try:
            await kv({"type": "cas", "key": ROOT, "from": db, "to": new, "create_if_not_exists": True})
            adopt(new)
            return {"type": "txn_ok", "txn": result}
        except RPCError as exc:
            if exc.code != 22:
                raise  # the transaction may or may not have committed: the client learns it failed


if __name__ == "__main__":
    node.run()
