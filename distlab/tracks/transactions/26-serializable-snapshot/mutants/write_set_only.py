"""Mistake: validates only the keys it writes (plain snapshot isolation).

T1 reads x and y and writes x; T2 reads x and y and writes y, on one snapshot.
Neither writes what the other writes, so both commit, each having missed the
other's write: write skew, which serializability forbids.
"""

from distlab import Node, RPCError

node = Node()
ROOT = "db"
EMPTY = {"version": 0, "data": {}, "written": {}}


async def kv(body: dict) -> dict:
    return (await node.rpc("lin-kv", body, timeout=1.0)).body


async def load() -> dict:
    try:
        return (await kv({"type": "read", "key": ROOT}))["value"]
    except RPCError as exc:
        if exc.code == 20:
            return EMPTY
        raise


def run(snapshot: dict, txn: list) -> tuple[dict, set, list]:
    """The transaction on the snapshot: (its writes, the keys it read, the completed micro-ops)."""
    view, writes, reads, result = dict(snapshot["data"]), {}, set(), []
    for kind, key, value in txn:
        if kind == "r":
            reads.add(str(key))
            result.append(["r", key, view.get(str(key))])
        else:
            view[str(key)] = writes[str(key)] = value
            result.append(["w", key, value])
    return writes, reads, result


def conflicts(current: dict, snapshot: dict, keys: set) -> bool:
    """Was any of these keys written by a commit after the snapshot?"""
    return any(current["written"].get(key, 0) > snapshot["version"] for key in keys)


@node.on("txn")
async def transact(msg):
    while True:
        snapshot = await load()
        writes, reads, result = run(snapshot, msg.body["txn"])
        if not writes:
            return {"type": "txn_ok", "txn": result}  # read-only: one snapshot, nothing to check
        touched = set(writes)  # the mistake: the keys read are not checked
        current = snapshot
        while not conflicts(current, snapshot, touched):
            version = current["version"] + 1
            new = {"version": version, "data": {**current["data"], **writes},
                   "written": {**current["written"], **{key: version for key in writes}}}
            try:
                await kv({"type": "cas", "key": ROOT, "from": current, "to": new,
                          "create_if_not_exists": current is EMPTY})
                return {"type": "txn_ok", "txn": result}
            except RPCError as exc:
                if exc.code != 22:
                    raise
            current = await load()  # someone committed: check their writes against ours
        # a key we read or write changed since our snapshot: rerun on a new one


if __name__ == "__main__":
    node.run()
