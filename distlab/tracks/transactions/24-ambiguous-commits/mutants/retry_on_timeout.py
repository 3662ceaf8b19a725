"""Mistake: treats a compare-and-set that timed out like one that lost a race, and runs the transaction again.

If the cas was applied and only its reply was lost, the second run appends
every element a second time.
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
    while True:
        db = await load()
        new, result = run(db, msg.body["txn"])
        if new == db:
            return {"type": "txn_ok", "txn": result}
        try:
            await kv({"type": "cas", "key": ROOT, "from": db, "to": new, "create_if_not_exists": True})
            return {"type": "txn_ok", "txn": result}
        except RPCError as exc:
            if exc.code != 22 and exc.code != 0:
                raise
            # 22: someone else committed first; 0: timed out, so run it again as well


if __name__ == "__main__":
    node.run()
