"""Mistake: commits its writes onto the current database without the first-committer-wins check.

Two transactions that read x from the same snapshot and both write it both commit:
one update is lost.
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
    return False  # the mistake: a key written since the snapshot is not a conflict


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
