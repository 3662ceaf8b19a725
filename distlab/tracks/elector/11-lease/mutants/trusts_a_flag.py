"""Elector 11, mutant: "do I hold the lease?" is a flag, set by a successful renewal and
cleared by a failed one. A holder paused for longer than the lease wakes up with the flag
still set and answers the requests that waited for it before its next renewal fails."""

from distlab import Node, RPCError

node = Node()
KEY = "lease"
DURATION = 1.0  # seconds a grant or renewal lasts
MARGIN = 0.2    # a contender waits this much longer than the record says
held = {"epoch": None, "until": 0.0}  # what this node holds, in memory only
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
        if record is not None and not mine and now < record["expires"] + MARGIN:
            return  # someone else's lease (or our own from before a crash), still running
        epoch = record["epoch"] if mine else (record["epoch"] + 1 if record else 1)
        new = {"holder": node.id, "epoch": epoch, "expires": now + DURATION}
        await kv({"type": "cas", "key": KEY, "from": record, "to": new, "create_if_not_exists": True})
        held["epoch"], held["until"] = epoch, new["expires"]
    except RPCError:
        held["epoch"] = None  # lost it (or lin-kv was slow): stop claiming it
    finally:
        busy["now"] = False


node.every(0.2, maintain)


@node.on("lease")
def lease(msg):
    holds = held["epoch"] is not None  # cleared when a renewal fails
    return {"type": "lease_ok", "holder": holds, "epoch": held["epoch"]}


if __name__ == "__main__":
    node.run()
