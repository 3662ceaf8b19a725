"""The workload interface: what clients do and which checker judges the result.

A workload is one module in this package with a subclass of `Workload`, listed
by name in distlab/workloads/registry.py. The runner owns time, clients, faults
and recording; a workload only turns operations into requests, replies into
values, and names the checker for its history, so it runs unchanged in the
simulator and against real processes.

Each workload declares the options it reads as a small frozen dataclass
(`Params`), built once from the run's options (`params_from`): a workload never
reads TestOptions, and `distlab analyze` rebuilds the same checker from a run's
config.json.
"""

from __future__ import annotations

import dataclasses
import random
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from distlab.checkers.api import Checker
    from distlab.options import TestOptions


@dataclass(slots=True)
class Op:
    f: str
    value: Any


@dataclass(frozen=True)
class NoParams:
    """A workload that reads no option."""


def param(default: Any, help: str, option: bool = True) -> Any:  # noqa: A002 (click's word)
    """A workload parameter: its default and its --help text. `option=False` marks one
    taken from the run itself (node count, clients), not a workload option of its own."""
    return dataclasses.field(default=default, metadata={"help": help, "option": option})


class Workload(ABC):
    name: ClassVar[str]
    Params: ClassVar[type] = NoParams
    """The options this workload reads: a frozen dataclass whose fields are named as
    TestOptions' (and the command line's) options, each with `param(default, help)`."""
    read_only: ClassVar[frozenset[str]] = frozenset()
    """Functions that cannot change state: any error on them is recorded as `fail`."""
    probe_types: ClassVar[frozenset[str]] = frozenset()
    """Request types sent on purpose to get error 10 (not-supported): answering them so
    is right, so they are not counted as node errors."""
    final_phase: ClassVar[bool] = False
    """Heal, wait for convergence, then run `final_ops` after the time limit."""

    def __init__(self, params: Any, rng: random.Random) -> None:
        self.params = params
        self.rng = rng

    @classmethod
    def params_from(cls, opts: TestOptions) -> Any:
        """This workload's parameters from the run's options: each field of `Params` from
        the option of the same name; an option left unset (None, 0 or empty, as the
        workloads have always read `--key-count 0`) keeps the field's default."""
        values = {}
        for f in dataclasses.fields(cls.Params):
            value = getattr(opts, f.name, None)
            if value or value is False:
                values[f.name] = tuple(value) if isinstance(value, list) else value
        return cls.Params(**values)

    def configure_services(self, services: dict[str, Any]) -> None:
        """Before the run: set up the built-in services this workload's nodes call
        (e.g. how the Networker's `backend` misbehaves). Most workloads leave them be."""
        return None

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
    def checker(self) -> Checker:
        """The checker that judges this workload's history (built from `self.params` only,
        so `distlab analyze` rebuilds the same one from config.json)."""


def workload_names() -> list[str]:
    """Every workload's name (distlab/workloads/registry.py)."""
    from distlab.workloads.registry import WORKLOADS

    return sorted(WORKLOADS)


def load_workload(name: str) -> type[Workload]:
    """The workload class named on the command line."""
    from distlab.workloads.registry import WORKLOADS

    cls = WORKLOADS.get(name)
    if cls is None:
        raise ValueError(f"unknown workload {name!r}; known: {', '.join(workload_names())}")
    return cls
