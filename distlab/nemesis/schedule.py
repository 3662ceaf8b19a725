"""The nemesis schedule: when a fault changes, and which registered fault it is.

At each fault change it picks one enabled fault kind and toggles it: starts it
if it is not active, heals it if it is. Faults of different kinds overlap.
The `stagger` schedule is Jepsen's nemesis generator, which Maelstrom uses
(`gen/stagger` around a start/stop flip-flop): the first change at the start
of the client phase, then each after a gap drawn uniformly from 0 to
2 x `interval`, so `interval` is the mean and a run shorter than it still sees
faults. The `fixed` schedule (distlab's earlier one, kept so older runs replay
and tuned scenarios keep their faults) changes every `interval` exactly,
starting one interval in. Neither changes at or after the time limit. Each
start and stop is recorded in the history as a `nemesis` operation, and
`heal_all` ends every fault before the final phase. What a fault does is its
own module's business (see registry.FAULTS); this module only chooses.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

from distlab.nemesis.base import Control
from distlab.nemesis.registry import FAULTS

SCHEDULES = ("stagger", "fixed")


class Nemesis:
    """Toggles the enabled faults on a schedule, drawing every choice from one seeded stream."""

    def __init__(
        self, kinds: list[str], interval: float, rng: random.Random, control: Control, schedule: str = "stagger",
    ) -> None:
        if interval <= 0:
            raise ValueError("--nemesis-interval must be positive")
        if schedule not in SCHEDULES:
            raise ValueError(f"unknown nemesis schedule {schedule!r}; choose from {', '.join(SCHEDULES)}")
        self.kinds = kinds
        self.interval = interval
        self.schedule = schedule
        self.rng = rng
        self.control = control
        self.active: dict[str, Any] = {}
        self.counts: dict[str, int] = {}

    async def run(self, until: float, now: Callable[[], float]) -> None:
        """Toggle faults until simulated/real time `until` (as read by `now()`).

        Stagger, as Jepsen's: each change is due a uniform(0, 2 x interval) gap
        after the previous one was due (not after it finished: a slow restart
        does not push the schedule back); one that falls due while the previous
        one still runs happens right after it, unless the time limit has passed.
        """
        if not self.kinds:
            return
        if self.schedule == "fixed":
            await self._run_fixed(until, now)
            return
        due = now()
        while max(due, now()) < until:
            delay = due - now()
            if delay > 0:
                await asyncio.sleep(delay)
            await self._toggle()
            due += 2 * self.interval * self.rng.random()

    async def _run_fixed(self, until: float, now: Callable[[], float]) -> None:
        """A change every `interval` after the previous one ended (bit for bit the old schedule)."""
        while True:
            delay = self.interval
            if now() + delay >= until:
                return
            await asyncio.sleep(delay)
            await self._toggle()

    async def _toggle(self) -> None:
        kind = self.rng.choice(self.kinds)
        if kind in self.active:
            await self.stop(kind)
        else:
            await self.start(kind)

    def warnings(self) -> list[str]:
        """Why a run that asked for faults may not have had them: said, not silent."""
        if not self.kinds:
            return []
        out = []
        missing = [k for k in self.kinds if not self.counts.get(f"start-{k}")]
        if len(missing) == len(self.kinds):
            why = (f"the fixed schedule's first change is one --nemesis-interval ({self.interval:g} s) in, "
                   "past the time limit; --nemesis-schedule stagger starts at once"
                   if self.schedule == "fixed" else "the run ended before any was due")
            out.append(f"--nemesis {','.join(self.kinds)}: no fault was injected ({why})")
        elif missing:
            out.append(f"--nemesis {','.join(missing)}: never injected in this run (faults of one kind at a time are "
                       f"picked at random; a longer --time-limit or shorter --nemesis-interval gives more)")
        for kind in self.kinds:
            fault = FAULTS.get(kind)
            note = fault.warn(list(self.control.node_ids)) if fault is not None and fault.warn else None
            if note is not None:
                out.append(note)
        return out

    def _record(self, f: str, value: Any) -> None:
        self.counts[f] = self.counts.get(f, 0) + 1
        self.control.record(f, value)

    async def start(self, kind: str) -> None:
        """Start a fault of this kind (healing the one already active first) and record it."""
        fault = FAULTS.get(kind)
        if fault is None:
            raise ValueError(f"unknown nemesis {kind!r}; choose from {', '.join(FAULTS)}")
        if kind in self.active:  # one fault of a kind at a time: heal the old one first
            await self.stop(kind)
        value = await fault.start(self.control, self.rng)
        self.active[kind] = value
        self._record(f"start-{kind}", value)

    async def stop(self, kind: str) -> None:
        """Heal the active fault of this kind and record it."""
        value = self.active.pop(kind)
        healed = await FAULTS[kind].stop(self.control, value)
        self._record(f"stop-{kind}", healed)

    async def heal_all(self) -> None:
        """Heal every active fault, in registry order."""
        for kind in [k for k in FAULTS if k in self.active]:
            await self.stop(kind)
