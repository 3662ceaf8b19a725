"""Elector 11: a lease in lin-kv. Renew yours; take over one that has expired."""

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
        # TODO: the record is {"holder", "epoch", "expires"} (or None: nobody ever held it).
        # - yours (holder and epoch match what you hold): renew it, same epoch, new expiry;
        # - nobody's, or expired (node.now() past expires + MARGIN): take it, epoch + 1;
        # - otherwise: leave it alone.
        # Write with {"type": "cas", "key": KEY, "from": record, "to": new,
        # "create_if_not_exists": True}; only when it succeeds do you hold `new`.
        del record
    except RPCError:
        pass
    finally:
        busy["now"] = False


node.every(0.2, maintain)


@node.on("lease")
def lease(msg):
    # TODO: you hold the lease only until the expiry you wrote.
    return {"type": "lease_ok", "holder": False, "epoch": held["epoch"]}


if __name__ == "__main__":
    node.run()
