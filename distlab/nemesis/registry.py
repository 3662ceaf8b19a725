"""Every fault, one line each: adding a fault is one module in this package plus one line here.

The order is the order `heal_all` heals in and `--nemesis` lists; it is part of
what a seed replays, so new faults go at the end.
"""

from __future__ import annotations

from collections.abc import Collection

from distlab.nemesis import clock, kill, loss, partition, pause
from distlab.nemesis.base import Fault

FAULTS: dict[str, Fault] = {
    "partition": partition.FAULT,
    "kill": kill.FAULT,
    "pause": pause.FAULT,
    "clock": clock.FAULT,
    "loss": loss.FAULT,
}
KINDS = tuple(FAULTS)


def parse_kinds(spec: str | list[str] | None) -> list[str]:
    """`"partition,kill"` -> ["partition", "kill"], with a clear error for a typo."""
    if not spec:
        return []
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    kinds = []
    for name in (n.strip() for n in names):
        if not name or name == "none":
            continue
        if name not in FAULTS:
            raise ValueError(f"unknown nemesis {name!r}; choose from {', '.join(FAULTS)}")
        if name not in kinds:
            kinds.append(name)
    return kinds


def unsupported(kinds: list[str], capabilities: Collection[str]) -> str | None:
    """Why a runtime with these capabilities cannot run these faults (None: it can), from their `needs`."""
    for kind in kinds:
        for need, why in FAULTS[kind].needs.items():
            if need not in capabilities:
                return f"--nemesis {kind} needs {why}"
    return None
