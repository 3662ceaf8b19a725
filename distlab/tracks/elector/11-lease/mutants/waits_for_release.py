"""Elector 11, mutant: takes the lease only when nobody holds it, and renews only a lease it
remembers holding. A holder that crashes never releases it, and after its restart it does
not remember: the lease is stuck with a dead owner forever."""

from distlab import Node, RPCError

node = Node()
KEY = "lease"
DURATION = 1.0
held = {"epoch": None, "until": 0.0}
busy = {"now": False}


async def kv(body: dict) -> dict:
    return (await node.rpc("lin-kv", body, timeout=0.5)).body


async def maintain():
    if busy["now"]:
        return
    busy["now"] = True
    try:
        try:
            record = (await kv({"type": "read", "key": KEY}))["value"]
        except RPCError as exc:
            if exc.code != 20:
                return
            record = None
        now = node.now()
        mine = record is not None and record["holder"] == node.id and record["epoch"] == held["epoch"]
        if record is not None and not mine:
            return  # held by someone: wait for them to let go
        epoch = record["epoch"] if mine else 1
        new = {"holder": node.id, "epoch": epoch, "expires": now + DURATION}
        await kv({"type": "cas", "key": KEY, "from": record, "to": new, "create_if_not_exists": True})
        held["epoch"], held["until"] = epoch, new["expires"]
    except RPCError:
        pass
    finally:
        busy["now"] = False


node.every(0.2, maintain)


@node.on("lease")
def lease(msg):
    holds = held["epoch"] is not None and node.now() < held["until"]
    return {"type": "lease_ok", "holder": holds, "epoch": held["epoch"]}


if __name__ == "__main__":
    node.run()
