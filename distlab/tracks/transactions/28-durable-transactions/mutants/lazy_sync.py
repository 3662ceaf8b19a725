"""Mistake: writes each commit's record but syncs only every half second, in the background.

Syncing once for many commits is cheaper, but the node acknowledges a
transaction before its record is durable: a kill loses appends that clients were
told had committed, and later transactions build different lists on the hole.

The rest is the reference's design:

A transaction runs on the in-memory lists as in transactions/single-node. Before
txn_ok, its appends are written to storage as one record (numbered in commit
order) and synced: a transaction is durable exactly when it is acknowledged, and
all of it or none of it is. On start the node replays the records in order.
Read-only transactions write nothing.
"""

from distlab import Node

node = Node()
data: dict[str, list] = {}
commits = 0  # how many records are in storage


def apply(appends: list) -> None:
    for key, value in appends:
        data.setdefault(key, []).append(value)


@node.on("init")
def recover(msg):
    global commits
    records = sorted(int(name.removeprefix("txn/")) for name in node.storage if name.startswith("txn/"))
    for number in records:
        apply(node.storage[f"txn/{number}"])
    commits = len(records)


@node.on("txn")
def transact(msg):
    global commits
    result, appends = [], []
    for kind, key, value in msg.body["txn"]:
        if kind == "r":
            seen = data.get(str(key), []) + [v for k, v in appends if k == str(key)]
            result.append(["r", key, seen or None])
        else:
            appends.append((str(key), value))
            result.append(["append", key, value])
    if appends:
        apply(appends)
        node.storage[f"txn/{commits}"] = appends
        commits += 1  # the mistake: no sync before txn_ok
    return {"type": "txn_ok", "txn": result}


node.every(0.5, lambda: node.storage.sync())

if __name__ == "__main__":
    node.run()
