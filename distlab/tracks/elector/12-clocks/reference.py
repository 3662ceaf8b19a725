"""Elector 12, reference: a lease that needs no agreement between clocks.

The record holds no time at all: {"holder", "epoch", "beat"}, and the holder bumps `beat`
with every renewal. Each node measures durations on its own monotonic clock only:

- the holder holds the lease until DURATION after it *sent* its last successful renewal
  (the renewal took effect after that, so this end is never late);
- a contender that sees the same record, unchanged, for DURATION + MARGIN since it first
  saw it, takes it over. It first saw it after the renewal took effect, so by then the
  holder's lease has run out, whatever either wall clock says.
"""

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
        if record != seen["record"]:
            seen["record"], seen["since"] = record, now
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
