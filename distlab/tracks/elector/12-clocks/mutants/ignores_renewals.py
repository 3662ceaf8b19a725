"""Elector 12, mutant: the contender starts its watch when the lease changes hands, but a
renewal (a new beat) does not restart it. So it takes over DURATION + MARGIN after the
holder first got the lease, however faithfully the holder has renewed since."""

import time

from distlab import Node, RPCError

node = Node()
KEY = "lease"
DURATION = 1.0
MARGIN = 0.3  # covers clocks that tick at slightly different rates (real ones drift)
held = {"epoch": None, "until": 0.0}
seen = {"record": None, "since": 0.0}  # the record as last read, and since when (monotonic)
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
        now = time.monotonic()
        owner = None if record is None else (record["holder"], record["epoch"])
        if owner != seen["record"]:  # a new holder or epoch; renewals (beat) go unnoticed
            seen["record"], seen["since"] = owner, now
        mine = record is not None and record["holder"] == node.id and record["epoch"] == held["epoch"]
        if record is not None and not mine and now - seen["since"] < DURATION + MARGIN:
            return  # someone else's lease, renewed recently enough
        epoch = record["epoch"] if mine else (record["epoch"] + 1 if record else 1)
        new = {"holder": node.id, "epoch": epoch, "beat": record["beat"] + 1 if mine else 0}
        sent = time.monotonic()
        await kv({"type": "cas", "key": KEY, "from": record, "to": new, "create_if_not_exists": True})
        held["epoch"], held["until"] = epoch, sent + DURATION
    except RPCError:
        pass
    finally:
        busy["now"] = False


node.every(0.2, maintain)


@node.on("lease")
def lease(msg):
    holds = held["epoch"] is not None and time.monotonic() < held["until"]
    return {"type": "lease_ok", "holder": holds, "epoch": held["epoch"]}


if __name__ == "__main__":
    node.run()
