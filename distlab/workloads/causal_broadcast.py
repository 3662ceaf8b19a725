"""causal-broadcast: `broadcast{message, deps}` -> `broadcast_ok`, `read` -> `read_ok{messages}`.

A read returns the messages its node has delivered, in delivery order. A client
knows the messages it broadcast and the ones it read (and sometimes hears what
another client knows); its next broadcast causally follows all of them, and says
so in `deps`: the messages it came to know since its previous broadcast, plus that
broadcast itself (the rest follows by transitivity). Causal delivery means no node
delivers a message before its deps. After the time limit come the final phase and
a final read on every node: every acknowledged message must be everywhere.
"""

from __future__ import annotations

from typing import Any

from distlab.checkers import causal
from distlab.checkers.api import Checker, FunctionChecker
from distlab.workloads.base import Op, Workload

HEAR = 0.3
"""How often a client first learns what another client knows."""


class _Client:
    __slots__ = ("known", "fresh")

    def __init__(self) -> None:
        self.known: set[int] = set()  # every message this client knows of
        self.fresh: set[int] = set()  # known since its last broadcast, and that broadcast


class CausalBroadcast(Workload):
    name = "causal-broadcast"
    read_only = frozenset({"read"})
    final_phase = True

    def __init__(self, params: Any, rng: Any) -> None:
        super().__init__(params, rng)
        self.node_ids: list[str] = []
        self.clients: dict[int, _Client] = {}
        self.sent: set[int] = set()  # messages whose broadcast was invoked
        self.next_message = 0
        self.owner: dict[int, int] = {}  # id(op) -> its process, until its reply

    async def setup(self, call: Any, node_ids: list[str]) -> None:
        self.node_ids = list(node_ids)

    def _learn(self, client: _Client, messages: Any) -> None:
        new = {m for m in messages if type(m) is int and m in self.sent} - client.known
        client.known |= new
        client.fresh |= new

    def next_op(self, process: int) -> Op:
        client = self.clients.setdefault(process, _Client())
        if self.rng.random() < HEAR and len(self.clients) > 1:
            self._learn(client, self.rng.choice(list(self.clients.values())).known)
        node = self.node_ids[process % len(self.node_ids)] if self.node_ids else None
        if self.rng.random() < 0.5:
            op = Op("read", {"node": node})
        else:
            self.next_message += 1
            self.sent.add(self.next_message)
            op = Op("broadcast", {"message": self.next_message, "deps": sorted(client.fresh)})
        self.owner[id(op)] = process
        return op

    def request(self, op: Op) -> dict[str, Any]:
        if op.f == "read":
            return {"type": "read"}
        return {"type": "broadcast", "message": op.value["message"], "deps": list(op.value["deps"])}

    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        process = self.owner.pop(id(op), None)
        client = self.clients.get(process) if process is not None else None
        if op.f == "read":
            messages = list(reply["messages"])
            if client is not None:
                self._learn(client, messages)
            return messages
        if client is not None:
            client.known.add(op.value["message"])
            client.fresh = {op.value["message"]}
        return op.value

    def final_ops(self, node_ids: list[str]) -> list[tuple[str, Op]]:
        return [(node, Op("read", {"node": node})) for node in node_ids]

    def checker(self) -> Checker:
        return FunctionChecker(causal.check, anomaly_keys=causal.ANOMALIES)
