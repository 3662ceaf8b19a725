"""A shard controller with no replication: each node keeps its own configurations.

Right with one server; with three, a clerk that moves to another server (its first
one shut down) finds other configurations, or none of its joins.
"""

from distlab import Node
from distlab.systems.shardctrler.rebalance import Controller, to_wire

node = Node()
ctl = Controller()


@node.on("join")
def join(msg):
    return ctl.apply({"op": "join", "groups": msg.body["groups"]})


@node.on("leave")
def leave(msg):
    return ctl.apply({"op": "leave", "gids": msg.body["gids"]})


@node.on("move")
def move(msg):
    return ctl.apply({"op": "move", "shard": msg.body["shard"], "gid": msg.body["gid"]})


@node.on("query")
def query(msg):
    return {"type": "query_ok", "config": to_wire(ctl.query(msg.body["num"]))}


if __name__ == "__main__":
    node.run()
