"""failure-detector: `suspects` -> `suspects_ok{suspects: [node ids]}`: who does this node
think has failed? Judged against the nemesis's own record of kills, pauses and partitions
(completeness and accuracy, see distlab/checkers/failure_detector.py).

Each client is bound to one node; the invocation records which (`{"node": "n1"}`), so the
history alone says who answered. The detection deadline grows with the network's mean
latency: on a slow network no detector can be both quick and accurate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from distlab.checkers import failure_detector
from distlab.checkers.api import Checker, FunctionChecker
from distlab.workloads.base import Op, Workload, param

if TYPE_CHECKING:
    from distlab.options import TestOptions

BASE_DEADLINE = 2.0
"""Seconds: a node unheard this long must be suspected, on a fast network."""
LATENCY_FACTOR = 4.0
"""... plus this many mean message latencies."""


@dataclass(frozen=True)
class FailureDetectorParams:
    nodes: tuple[str, ...] = param((), "The cluster's node ids.", option=False)
    latency: float | None = param(None, "Mean server-to-server latency (ms), which widens the deadline.",
                                  option=False)


def deadline(latency_ms: float | None) -> float:
    """How long a node may go unheard before it must be suspected (and how long after a
    fault heals suspicion may linger)."""
    return BASE_DEADLINE + LATENCY_FACTOR * (latency_ms or 0.0) / 1000


class FailureDetector(Workload):
    name = "failure-detector"
    Params = FailureDetectorParams
    read_only = frozenset({"suspects"})
    final_phase = True

    @classmethod
    def params_from(cls, opts: TestOptions) -> FailureDetectorParams:
        return FailureDetectorParams(tuple(opts.node_ids()), opts.latency)

    def _node(self, process: int) -> str:
        nodes = self.params.nodes
        return nodes[process % len(nodes)] if nodes else ""

    def next_op(self, process: int) -> Op:
        return Op("suspects", {"node": self._node(process)})

    def request(self, op: Op) -> dict[str, Any]:
        return {"type": "suspects"}

    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        suspects = reply["suspects"]
        if not isinstance(suspects, list) or not all(isinstance(s, str) for s in suspects):
            raise ValueError("suspects must be a list of node ids")
        return {**op.value, "suspects": sorted(suspects)}

    def final_ops(self, node_ids: list[str]) -> list[tuple[str, Op]]:
        return [(n, Op("suspects", {"node": n})) for n in dict.fromkeys(node_ids)]

    def checker(self) -> Checker:
        t = deadline(self.params.latency)
        return FunctionChecker(failure_detector.check,
                               {"detect_within": t, "settle": t, "nodes": self.params.nodes},
                               anomaly_keys=("missed", "false_suspicions", "final_unanswered"))
