"""The nemesis: faults, one module each, and a schedule that picks among them.

`registry.FAULTS` lists the faults (partition, kill, pause, clock, loss), each a
`base.Fault` in its own module; `schedule.Nemesis` decides when one starts or
heals. Independent of workload and checker, as Jepsen's nemesis is.
"""

from distlab.nemesis.base import Control, Fault, targets
from distlab.nemesis.registry import FAULTS, KINDS, parse_kinds, unsupported
from distlab.nemesis.schedule import ENSURES, SCHEDULES, Nemesis, ensure_problem

__all__ = ["ENSURES", "FAULTS", "KINDS", "SCHEDULES", "Control", "Fault", "Nemesis", "ensure_problem", "parse_kinds",
           "targets", "unsupported"]
