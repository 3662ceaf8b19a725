"""echo: `echo{echo}` -> `echo_ok{echo}`: the reply returns the request's `echo` field unchanged."""

from __future__ import annotations

from typing import Any

from distlab.checkers import echo
from distlab.checkers.api import Checker, FunctionChecker
from distlab.workloads.base import Op, Workload


class Echo(Workload):
    name = "echo"
    read_only = frozenset({"echo"})

    def next_op(self, process: int) -> Op:
        return Op("echo", f"Please echo {self.rng.randrange(128)}")

    def request(self, op: Op) -> dict[str, Any]:
        return {"type": "echo", "echo": op.value}

    def ok_value(self, op: Op, reply: dict[str, Any]) -> Any:
        return reply.get("echo")

    def checker(self) -> Checker:
        return FunctionChecker(echo.check, anomaly_keys=("mismatched",))

