"""Mutant: every server keeps its own configurations and answers at once, with no Raft:
right while the clerk talks to one server, wrong as soon as that server is shut down."""

from __future__ import annotations

from typing import Any

from distlab import Node
from distlab.systems.shardctrler.rebalance import Controller, to_wire

node = Node()
ctl = Controller()


@node.on("init")
def start(msg: Any) -> None:
    pass


@node.on("join")
def join(msg: Any) -> dict[str, Any]:
    return ctl.apply({"op": "join", "groups": msg.body["groups"]})


@node.on("leave")
def leave(msg: Any) -> dict[str, Any]:
    return ctl.apply({"op": "leave", "gids": msg.body["gids"]})


@node.on("move")
def move(msg: Any) -> dict[str, Any]:
    return ctl.apply({"op": "move", "shard": msg.body["shard"], "gid": msg.body["gid"]})


@node.on("query")
def query(msg: Any) -> dict[str, Any]:
    return {"type": "query_ok", "config": to_wire(ctl.query(int(msg.body["num"])))}


if __name__ == "__main__":
    node.run()
