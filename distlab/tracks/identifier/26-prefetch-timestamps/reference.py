"""Hide the oracle's latency: keep a pool of timestamps fetched ahead of demand.

Asking `lin-tso` takes a 200 ms round trip, longer than a client waits. So a
background loop keeps about POOL timestamps on hand, with enough requests in
flight to refill it as fast as clients drain it. A request takes one from
the pool at once, and waits for the oracle only when the pool has run dry.
"""

from distlab import Node, RPCError

node = Node()
POOL = 200  # timestamps kept on hand or on the way
pool: list[int] = []
in_flight = 0


async def fetch() -> None:
    global in_flight
    in_flight += 1
    try:
        pool.append((await node.rpc("lin-tso", {"type": "ts"}, timeout=1.0)).body["ts"])
    except RPCError:
        pass  # the next refill asks again
    finally:
        in_flight -= 1


def refill() -> None:
    for _ in range(POOL - len(pool) - in_flight):
        node.spawn(fetch())


node.every(0.02, refill)


@node.on("generate")
async def generate(msg):
    while not pool:
        await fetch()  # ran dry: wait for the oracle like everybody else
    return {"type": "generate_ok", "id": pool.pop(0)}


if __name__ == "__main__":
    node.run()
