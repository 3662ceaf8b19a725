"""Mistake: a participant keeps its locks in memory only; it logs data, applied commits and decisions.

Locks look like volatile state, but a yes vote is a promise: a participant
killed after voting restarts with its keys unlocked, another transaction reads
and appends to them, and then the first transaction's commit arrives and is
applied on top, although that transaction read the keys before the other one.
No serial order explains both.

The rest is the reference's design:

Keys are owned by nodes (key mod node count), as in transactions/two-phase-commit,
but over lists and with nodes killed and restarted. Three records make it safe:

- a participant syncs a lock record for each key before voting yes, so a
  restart cannot forget a promise (another transaction could otherwise slip in
  between the vote and the commit);
- the coordinator syncs its decision (every participant's appends) before
  answering the client: from then on the transaction is committed, and the
  commits are re-sent, after a restart too, until every participant has them;
- a participant records each transaction it applied, so a re-sent commit is
  applied once.

Aborts are never logged (presumed abort). A participant holding locks for a
while asks the coordinator what happened: "commit" with its appends, "pending"
if the coordinator is still running it, or "abort" if the coordinator has no
decision and is not running it (it gave up, or crashed before deciding).
"""

import asyncio

from distlab import Node, RPCError

node = Node()
TRIES = 10
data: dict[str, list] = {}  # the keys this node owns
locks: dict[str, str] = {}  # key -> txid that holds it (mirrors lock/<key> records)
held_since: dict[str, float] = {}  # txid -> when it took its first lock here (memory only)
decisions: dict[str, dict] = {}  # txid -> {participant: appends not yet acknowledged}
active: set[str] = set()  # txids this incarnation is coordinating and has not decided
epoch = 0
sequence = 0


def owner(key) -> str:
    return node.node_ids[int(key) % len(node.node_ids)]


@node.on("init")
def recover(msg):
    global epoch
    for name in node.storage:
        kind, _, rest = name.partition("/")
        if kind == "k":
            data[rest] = node.storage[name]
        elif kind == "lock":
            locks[rest] = node.storage[name]
            held_since[locks[rest]] = node.now()
        elif kind == "decision":
            decisions[rest] = node.storage[name]
    epoch = node.storage.get("epoch", 0) + 1  # txids of this incarnation are new ones
    node.storage["epoch"] = epoch
    node.storage.sync()


# ----- participant ------------------------------------------------------------------
def prepare_here(txid: str, keys: list[str]) -> dict | None:
    """Lock every key durably (or none) and return their lists; None if one is held by another."""
    if any(locks.get(key, txid) != txid for key in keys):
        return None
    for key in keys:
        locks[key] = txid  # the mistake: no lock record, so a restart forgets the vote
    held_since.setdefault(txid, node.now())
    return {key: data.get(key, []) for key in keys}


def finish_here(txid: str, appends: list | None) -> None:
    """Commit (apply appends, once) or, with None, abort; either way release txid's locks."""
    if appends is not None and f"applied/{txid}" not in node.storage:
        for key, value in appends:
            data.setdefault(key, []).append(value)
            node.storage[f"k/{key}"] = data[key]
        node.storage[f"applied/{txid}"] = True
    for key in [key for key, holder in locks.items() if holder == txid]:
        del locks[key]
    held_since.pop(txid, None)
    node.storage.sync()


@node.on("prepare")
def prepare(msg):
    values = prepare_here(msg.body["txid"], msg.body["keys"])
    return {"type": "prepare_ok", "ok": values is not None, "values": values or {}}


@node.on("commit")
def commit(msg):
    finish_here(msg.body["txid"], msg.body["appends"])
    return {"type": "commit_ok"}


@node.on("release")
def release(msg):
    finish_here(msg.body["txid"], None)
    return {"type": "release_ok"}


async def resolve():
    """Ask the coordinators of locks held for a while what became of their transactions."""
    for txid, since in list(held_since.items()):
        if node.now() - since < 0.5:
            continue
        coordinator = txid.split(".")[0]
        try:
            reply = await call(coordinator, {"type": "status", "txid": txid})
        except RPCError:
            continue  # the coordinator is down: ask again later
        if reply["outcome"] == "commit":
            finish_here(txid, reply["appends"])
        elif reply["outcome"] == "abort":
            finish_here(txid, None)


# ----- coordinator ------------------------------------------------------------------
def status_of(txid: str, asker: str) -> dict:
    if txid in decisions:
        return {"outcome": "commit", "appends": decisions[txid].get(asker, [])}
    return {"outcome": "pending" if txid in active else "abort"}


@node.on("status")
def status(msg):
    return {"type": "status_ok", **status_of(msg.body["txid"], msg.src)}


async def call(where: str, body: dict) -> dict:
    """A participant's (or coordinator's) answer: this node's own handlers, or an RPC."""
    if where == node.id:
        if body["type"] == "prepare":
            values = prepare_here(body["txid"], body["keys"])
            return {"ok": values is not None, "values": values or {}}
        if body["type"] == "status":
            return status_of(body["txid"], node.id)
        finish_here(body["txid"], body.get("appends"))
        return {}
    return (await node.rpc(where, body, timeout=0.5)).body


async def deliver(txid: str, where: str) -> None:
    appends = decisions.get(txid, {}).get(where)
    if appends is None:
        return
    try:
        await call(where, {"type": "commit", "txid": txid, "appends": appends})
    except RPCError:
        return  # down: the next round re-sends it
    decision = decisions.get(txid)
    if decision is not None and where in decision:
        del decision[where]
        if decision:
            node.storage[f"decision/{txid}"] = decision
        else:
            del decisions[txid]
            del node.storage[f"decision/{txid}"]


async def redeliver():
    await asyncio.gather(*(deliver(txid, where) for txid, decision in list(decisions.items())
                           for where in list(decision)))
    await resolve()


node.every(0.25, redeliver)


async def prepare_at(txid: str, where: str, keys: list[str]) -> dict:
    try:
        return await call(where, {"type": "prepare", "txid": txid, "keys": keys})
    except RPCError:
        return {"ok": False, "values": {}}  # down, or its answer was lost: it may hold locks


@node.on("txn")
async def transact(msg):
    global sequence
    txn = msg.body["txn"]
    groups: dict[str, list[str]] = {}
    for key in sorted({str(key) for _, key, _ in txn}):
        groups.setdefault(owner(key), []).append(key)
    for _ in range(TRIES):
        sequence += 1
        txid = f"{node.id}.{epoch}.{sequence}"
        active.add(txid)
        answers = await asyncio.gather(*(prepare_at(txid, where, keys) for where, keys in groups.items()))
        if all(answer["ok"] for answer in answers):
            view: dict = {}
            for answer in answers:
                view.update(answer["values"])
            result, appends = [], {where: [] for where in groups}
            for kind, key, value in txn:
                if kind == "r":
                    result.append(["r", key, list(view[str(key)]) or None])
                else:
                    view[str(key)] = view[str(key)] + [value]
                    appends[owner(key)].append([str(key), value])
                    result.append(["append", key, value])
            decisions[txid] = appends
            node.storage[f"decision/{txid}"] = appends
            node.storage.sync()  # the commit point
            active.discard(txid)
            await asyncio.gather(*(deliver(txid, where) for where in groups))
            return {"type": "txn_ok", "txn": result}
        active.discard(txid)  # from now on its participants hear "abort"
        await asyncio.gather(*(release_at(txid, where) for where, answer in zip(groups, answers, strict=True)
                               if answer["ok"]))
        await asyncio.sleep(node.random.uniform(0.0, 0.03))
    raise RPCError(30, "could not lock the keys: try again")


async def release_at(txid: str, where: str) -> None:
    try:
        await call(where, {"type": "release", "txid": txid})
    except RPCError:
        pass  # it will ask us, and hear "abort"


if __name__ == "__main__":
    node.run()
