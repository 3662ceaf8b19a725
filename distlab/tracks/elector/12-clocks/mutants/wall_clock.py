"""Elector 12, mutant: task 11's lease, with the expiry written as a wall-clock time. It is
safe while clocks agree; when a contender's clock runs ahead it takes over a lease that
is still running, and a holder whose clock runs behind keeps claiming an expired one."""

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
        pass  # lost the race, or lin-kv was slow: try again on the next round
    finally:
        busy["now"] = False


node.every(0.2, maintain)


@node.on("lease")
def lease(msg):
    holds = held["epoch"] is not None and node.now() < held["until"]
    return {"type": "lease_ok", "holder": holds, "epoch": held["epoch"]}


if __name__ == "__main__":
    node.run()
