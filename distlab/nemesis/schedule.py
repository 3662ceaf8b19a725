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

A scenario whose check needs a fault (kv-lab's persist scenarios need a kill of a
majority that comes back while clients still run) names it in `ensure` (ENSURES), so
that every seed's schedule has it, not only the seed the scenario was tuned on. What it
adds comes after the schedule's own change at the same moment and draws from a stream
of its own, so a schedule that already has the fault is unchanged, change for change.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

from distlab.nemesis.base import Control, targets
from distlab.nemesis.registry import FAULTS

SCHEDULES = ("stagger", "fixed")
# What a schedule can be made to include (TestOptions.nemesis_ensure), with the fault kind
# each needs enabled. Fixed schedule only: its changes are counted in advance.
ENSURES = {
    # a kill of a majority (or of all) at least op_timeout + 1 s before the end, restarted at
    # the next change, and no other kill until op_timeout + 1 s after it: the clients that
    # waited on dead nodes come back to a live service
    "kill-majority": "kill",
    # the same, and the schedule's own kills before it are skipped: the nodes killed have
    # run undisturbed until then (3B's check that they come back from their snapshots)
    "kill-majority-first": "kill",
    # every partition leaves some majority of the nodes connected
    "partition-majority": "partition",
    # every partition cuts one node off from all the others (it falls behind)
    "partition-isolate-one": "partition",
}


class Nemesis:
    """Toggles the enabled faults on a schedule, drawing every choice from one seeded stream."""

    def __init__(
        self, kinds: list[str], interval: float, rng: random.Random, control: Control, schedule: str = "stagger",
        ensure: list[str] | tuple[str, ...] = (), settle: float = 5.0,
    ) -> None:
        if interval <= 0:
            raise ValueError("--nemesis-interval must be positive")
        if schedule not in SCHEDULES:
            raise ValueError(f"unknown nemesis schedule {schedule!r}; choose from {', '.join(SCHEDULES)}")
        why = ensure_problem(list(ensure), kinds, schedule)
        if why is not None:
            raise ValueError(why)
        self.ensure = list(ensure)
        self.settle = settle
        # its own stream (a copy of the schedule's), so that what `ensure` adds draws
        # nothing from the schedule's: its own changes stay the same
        self.ensure_rng = random.Random()
        self.ensure_rng.setstate(rng.getstate())
        self.kill_ensured = not {"kill-majority", "kill-majority-first"} & set(self.ensure)
        self.kill_first = "kill-majority-first" in self.ensure
        self.kill_started = 0.0  # when the active kill began
        self.kill_hold = 0.0  # no kill starts before this time (see _kill_began)
        self.now: Callable[[], float] = lambda: 0.0
        self.until = float("inf")
        self.healing = False  # heal_all is ending every fault (the client phase is over)
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
        self.now, self.until = now, until
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
            await self._ensure_kill(now(), until)

    def _is_majority(self, value: Any) -> bool:
        return len(value) > len(self.control.node_ids) // 2

    async def _ensure_kill(self, t: float, until: float) -> None:
        """ENSURES "kill-majority", after the schedule's own change at time `t` (so its random
        draws are the same as without it). A client whose request went to a dead node hears
        nothing for `settle` seconds, so a majority must go down at least `settle` + 1 s
        before the end and come back at the next change: the schedule's own kill of a
        majority that early counts (it is restarted here at the next change if the schedule
        does not), else one is added at the last change early enough. Until `settle` + 1 s
        after it went down, the schedule's own kills are skipped (`start`)."""
        if self.kill_ensured:
            return
        active = self.active.get("kill")
        if active is not None and self.kill_hold:
            if self.kill_started < t:  # down since an earlier change: back now
                await self.stop("kill")
            return
        if t <= until - self.settle - 1.0 < t + self.interval:
            from distlab.nemesis import kill

            if active is not None:  # one fault of a kind at a time: heal the old one first
                await self.stop("kill")
            value = await kill.start_majority(self.control, self.ensure_rng)
            self.active["kill"] = value
            self._kill_began(t, value)
            self._record("start-kill", value)

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
        if not self.kill_ensured:
            out.append(f"nemesis_ensure {' '.join(self.ensure)}: the run was too short to kill a majority at least "
                       f"{self.settle + 1:g} s before its end and restart it at the next change")
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
        if kind == "kill" and (self.now() < self.kill_hold or (self.kill_first and not self.kill_hold)):
            # ENSURES "kill-majority": the clients that waited on the killed majority come
            # back before anything is killed again ("kill-majority-first": nothing is killed
            # before it either). The targets are drawn all the same, so the rest of the
            # schedule is what it would have been.
            targets(list(self.control.node_ids), self.rng)
            return
        starter = fault.start
        if kind == "partition" and {"partition-majority", "partition-isolate-one"} & set(self.ensure):
            from distlab.nemesis import partition

            starter = (partition.start_isolate_one if "partition-isolate-one" in self.ensure
                       else partition.start_majority)
        value = await starter(self.control, self.rng)
        self.active[kind] = value
        if kind == "kill":
            self._kill_began(self.now(), value)
        self._record(f"start-{kind}", value)

    def _kill_began(self, t: float, value: Any) -> None:
        """Note a kill; the first of a majority early enough (_ensure_kill) is the one
        `ensure` needs, and holds off other kills."""
        self.kill_started = t
        if (not self.kill_ensured and not self.kill_hold and self._is_majority(value)
                and t <= self.until - self.settle - 1.0):
            self.kill_hold = t + self.settle + 1.0

    async def stop(self, kind: str) -> None:
        """Heal the active fault of this kind and record it."""
        value = self.active.pop(kind)
        healed = await FAULTS[kind].stop(self.control, value)
        if kind == "kill" and self.kill_hold and not self.healing:
            self.kill_ensured = True  # the majority `ensure` needs is back during the client phase
        self._record(f"stop-{kind}", healed)

    async def heal_all(self) -> None:
        """Heal every active fault, in registry order."""
        self.healing = True
        for kind in [k for k in FAULTS if k in self.active]:
            await self.stop(kind)


def ensure_problem(ensure: list[str], kinds: list[str], schedule: str) -> str | None:
    """Why these `ensure` names cannot be had with these faults and schedule (None: they can)."""
    for name in ensure:
        if name not in ENSURES:
            return f"nemesis_ensure {name}: choose from {', '.join(ENSURES)}"
        if ENSURES[name] not in kinds:
            return f"nemesis_ensure {name} needs --nemesis {ENSURES[name]}"
        if schedule != "fixed":
            return f"nemesis_ensure {name} needs --nemesis-schedule fixed (its changes are counted in advance)"
    return None
