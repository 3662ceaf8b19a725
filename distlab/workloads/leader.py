"""leader and bully: `leader` -> `leader_ok{leader, term}`: whom does this node follow?

`leader` (with terms): one leader per term, terms never go back, no dead leader named,
no flapping while nothing fails, and one agreed leader after the final heal.
`bully` is the same without terms, and the agreed leader must be the highest node id.
`sticky-leader` adds: a leader up and connected to a majority is never deposed (a node back
from a partition must not unseat it, as Raft's pre-vote ensures).
See distlab/checkers/leader.py. Each client is bound to one node; the invocation records
which (`{"node": "n1"}`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from distlab.checkers import leader
from distlab.checkers.api import Checker, FunctionChecker
from distlab.workloads.base import Op, Workload, param

if TYPE_CHECKING:
    from distlab.options import TestOptions

DETECT_WITHIN = 4.0
"""Seconds: a dead leader must no longer be named this long after it went down; a quiet
stretch (no fault) settles on one leader within as long."""


@dataclass(frozen=True)
class LeaderParams:
    nodes: tuple[str, ...] = param((), "The cluster's node ids.", option=False)


class Leader(Workload):
    name = "leader"
    Params = LeaderParams
    read_only = frozenset({"leader"})
    final_phase = True
    terms: ClassVar[bool] = True
    highest_wins: ClassVar[bool] = False
    no_disruption: ClassVar[bool] = False

    @classmethod
    def params_from(cls, opts: TestOptions) -> LeaderParams:
        return LeaderParams(tuple(opts.node_ids()))

    def _node(self, process: int) -> str:
        nodes = self.params.nodes
        return nodes[process % len(nodes)] if nodes else ""

    def next_op(self, process: int) -> Op:
        return Op("leader", {"node": self._node(process)})

    def request(self, op: Op) -> dict[str, Any]:
        return {"type": "leader"}

    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        return {**op.value, "leader": reply["leader"], "term": reply.get("term")}

    def final_ops(self, node_ids: list[str]) -> list[tuple[str, Op]]:
        return [(n, Op("leader", {"node": n})) for n in dict.fromkeys(node_ids)]

    def checker(self) -> Checker:
        return FunctionChecker(leader.check, {"detect_within": DETECT_WITHIN, "settle": DETECT_WITHIN,
                                              "terms": self.terms, "highest_wins": self.highest_wins,
                                              "nodes": self.params.nodes, "no_disruption": self.no_disruption},
                               anomaly_keys=("two_leaders", "term_went_back", "dead_leader", "flapping", "disrupted",
                                             "final"))


class Bully(Leader):
    name = "bully"
    terms = False
    highest_wins = True


class StickyLeader(Leader):
    name = "sticky-leader"
    no_disruption = True
