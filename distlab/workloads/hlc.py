"""hlc: `stamp{seen?}` -> `stamp_ok{ts}` with a hybrid logical clock's `[l, c]` timestamps.

The `lamport` workload's clients and causality (timestamps carried between nodes by
clients), with timestamps that are pairs compared in order: `l`, milliseconds of a
physical clock, then `c`, a counter for events within one millisecond. Run it with
the clock nemesis: the checker also holds `l` to what the nodes' clocks could have
read, as the nemesis records in the history say they were skewed.
"""

from __future__ import annotations

from typing import Any

from distlab.checkers import hlc
from distlab.checkers.api import Checker, FunctionChecker
from distlab.workloads.lamport import Lamport


class HLC(Lamport):
    name = "hlc"

    @staticmethod
    def well_formed(ts: Any) -> bool:
        return hlc.well_formed(ts)

    def checker(self) -> Checker:
        return FunctionChecker(hlc.check, anomaly_keys=hlc.ANOMALIES)
