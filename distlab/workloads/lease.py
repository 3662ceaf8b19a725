"""lease: `lease` -> `lease_ok{holder, epoch}`: does this node hold the lease right now, and
under which epoch? Two nodes must never hold it at once, judged in real time from the
answers alone (see distlab/checkers/lease.py); after the final heal some node holds it.
Each client is bound to one node; the invocation records which (`{"node": "n1"}`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from distlab.checkers import lease
from distlab.checkers.api import Checker, FunctionChecker
from distlab.workloads.base import Op, Workload, param

if TYPE_CHECKING:
    from distlab.options import TestOptions


@dataclass(frozen=True)
class LeaseParams:
    nodes: tuple[str, ...] = param((), "The cluster's node ids.", option=False)


class Lease(Workload):
    name = "lease"
    Params = LeaseParams
    read_only = frozenset({"lease"})
    final_phase = True

    @classmethod
    def params_from(cls, opts: TestOptions) -> LeaseParams:
        return LeaseParams(tuple(opts.node_ids()))

    def _node(self, process: int) -> str:
        nodes = self.params.nodes
        return nodes[process % len(nodes)] if nodes else ""

    def next_op(self, process: int) -> Op:
        return Op("lease", {"node": self._node(process)})

    def request(self, op: Op) -> dict[str, Any]:
        return {"type": "lease"}

    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        holder = reply["holder"]
        if not isinstance(holder, bool):
            raise ValueError("holder must be true or false")
        return {**op.value, "holder": holder, "epoch": reply.get("epoch")}

    def final_ops(self, node_ids: list[str]) -> list[tuple[str, Op]]:
        return [(n, Op("lease", {"node": n})) for n in dict.fromkeys(node_ids)]

    def checker(self) -> Checker:
        return FunctionChecker(lease.check, anomaly_keys=("stale_claims", "two_holders"))
