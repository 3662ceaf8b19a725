"""Snapshot isolation on lin-kv: read a snapshot, commit unless a written key changed since.

The database is one lin-kv value with a version number, the data, and for each
key the version that last wrote it. A transaction reads from the snapshot it
loaded first. To commit, it applies only its writes to the *current* database, and
only if none of the keys it writes was written after its snapshot (first committer
wins); otherwise it reruns. Keys it only read may have changed meanwhile: that is
what snapshot isolation allows (write skew) and serializability does not.
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


def run(snapshot: dict, txn: list) -> tuple[dict, list]:
    """The transaction on the snapshot: (its writes, the completed micro-ops)."""
    view, writes, result = dict(snapshot["data"]), {}, []
    for kind, key, value in txn:
        if kind == "r":
            result.append(["r", key, view.get(str(key))])
        else:
            view[str(key)] = writes[str(key)] = value
            result.append(["w", key, value])
    return writes, result


def conflicts(current: dict, snapshot: dict, writes: dict) -> bool:
    """Was any key this transaction writes written by a commit after its snapshot?"""
    return any(current["written"].get(key, 0) > snapshot["version"] for key in writes)


@node.on("txn")
async def transact(msg):
    while True:
        snapshot = await load()
        writes, result = run(snapshot, msg.body["txn"])
        if not writes:
            return {"type": "txn_ok", "txn": result}
        current = snapshot
        while not conflicts(current, snapshot, writes):
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
        # a conflicting commit since our snapshot: rerun the transaction on a new one


if __name__ == "__main__":
    node.run()
