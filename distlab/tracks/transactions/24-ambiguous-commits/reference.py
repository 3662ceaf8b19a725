"""Serializable list-append on lin-kv over a network that loses and duplicates messages.

Three kinds of repeat would append an element twice. A client request the
network delivered twice: the node remembers each request it has begun
((client, msg_id)) and ignores a copy. A compare-and-set that timed out may
have been applied, so the error goes back to the client (outcome unknown)
instead of a rerun. And a cas "failed" with error 22 may have succeeded too: if
the network duplicated it, the first copy applied it and the second copy's
error may be the only reply that arrives. So before retrying, the node checks
the fresh database for its own appends (values are unique per key): if they
are there, it committed, and the result of that attempt is the answer.
"""

from distlab import Node, RPCError

node = Node()
ROOT = "db"
started: set[tuple[str, int]] = set()  # (client, msg_id) of every request begun here


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
    request = (msg.src, msg.body["msg_id"])
    if request in started:
        return None  # a copy made by the network: the first one answers
    started.add(request)
    appends = [(str(key), value) for kind, key, value in msg.body["txn"] if kind == "append"]
    tried = None  # the result of an attempt whose cas came back with error 22
    while True:
        db = await load()
        if tried is not None and appends and all(value in db.get(key, []) for key, value in appends):
            return {"type": "txn_ok", "txn": tried}  # that "failed" cas was applied after all
        new, result = run(db, msg.body["txn"])
        if new == db:
            return {"type": "txn_ok", "txn": result}
        try:
            await kv({"type": "cas", "key": ROOT, "from": db, "to": new, "create_if_not_exists": True})
            return {"type": "txn_ok", "txn": result}
        except RPCError as exc:
            if exc.code != 22:
                raise  # e.g. a timeout: it may have committed, so never run it again
            tried = result


if __name__ == "__main__":
    node.run()
