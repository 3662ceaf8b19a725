"""The workload interface: what clients do and how the result is judged.

A workload is one module in this package exporting `WORKLOAD`, a subclass of
`Workload`. The runner owns time, clients, faults and recording; a workload
only turns operations into requests, replies into values, and a history into
a verdict, so it runs unchanged in the simulator and against real processes.
"""

from __future__ import annotations

import importlib
import pkgutil
import random
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from distlab.options import TestOptions


@dataclass(slots=True)
class Op:
    f: str
    value: Any


class Workload(ABC):
    name: ClassVar[str]
    read_only: ClassVar[frozenset[str]] = frozenset()
    """Functions that cannot change state: any error on them is recorded as `fail`."""
    final_phase: ClassVar[bool] = False
    """Heal, wait for convergence, then run `final_ops` after the time limit."""

    def __init__(self, opts: TestOptions, rng: random.Random) -> None:
        self.opts = opts
        self.rng = rng

    async def setup(self, call: Any, node_ids: list[str]) -> None:
        """Before clients start (e.g. send a topology). `call(node, body)` is an RPC."""
        return None

    @abstractmethod
    def next_op(self, process: int) -> Op:
        """The next operation for this client process."""

    @abstractmethod
    def request(self, op: Op) -> dict[str, Any]:
        """A new request body for an operation (msg_id is added by the runner).

        Build it fresh each time and copy any mutable part of `op.value` into it:
        in the simulator the node receives this very dict.
        """

    def invoke_value(self, op: Op) -> Any:
        """What the history records for the invocation (and for fail/info completions)."""
        return op.value

    @abstractmethod
    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        """The value recorded for a successful reply."""

    def final_ops(self, node_ids: list[str]) -> list[tuple[str, Op]]:
        """The first final operation of each final reader, one per entry of `node_ids`
        (a node may be listed more than once: one reader per client worker)."""
        return []

    def final_next(self, op: Op, value: Any) -> Op | None:
        """After a final operation completed with `value` (None if it did not succeed),
        another one for the same reader, or None (the default: one final read each)."""
        return None

    @abstractmethod
    def check(self, history: list[dict[str, Any]]) -> dict[str, Any]:
        """A verdict dict with at least "valid": True, False or "unknown"."""


def workload_names() -> list[str]:
    import distlab.workloads as pkg

    return sorted(
        m.name.replace("_", "-")
        for m in pkgutil.iter_modules(pkg.__path__)
        if m.name not in ("base", "topology") and not m.name.startswith("_")  # helpers, not workloads
    )


def load_workload(name: str) -> type[Workload]:
    """The workload class named on the command line (`unique-ids` -> workloads/unique_ids.py)."""
    if name not in workload_names():
        raise ValueError(f"unknown workload {name!r}; known: {', '.join(workload_names())}")
    module = importlib.import_module(f"distlab.workloads.{name.replace('-', '_')}")
    return module.WORKLOAD
