"""Elector 12: a lease that is safe whatever the wall clocks say."""

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
        # TODO: no wall-clock times here. The record is {"holder", "epoch", "beat"}:
        # - yours: renew it by bumping "beat"; you hold it until DURATION after you *sent*
        #   the renewal that succeeded (time.monotonic());
        # - someone else's: note when you first saw this exact record (seen); take it over
        #   (epoch + 1, beat 0) only if it has not changed for DURATION + MARGIN.
        del record
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
