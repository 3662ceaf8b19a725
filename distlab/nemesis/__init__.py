"""The nemesis: a schedule of faults, independent of workload and checker.

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
`heal_all` ends every fault before the final phase.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any, Protocol

from distlab.runtime.network import PARTITIONS, Network

KINDS = ("partition", "kill", "pause", "clock", "loss")
SCHEDULES = ("stagger", "fixed")


class Control(Protocol):
    """What the nemesis may do to a cluster (implemented by each runtime's runner)."""

    node_ids: list[str]
    network: Network

    def crash(self, node_id: str) -> None: ...
    async def restart(self, node_id: str) -> None: ...
    def pause(self, node_id: str) -> None: ...
    def resume(self, node_id: str) -> None: ...
    def set_clock(self, node_id: str, **clock: float) -> None: ...
    def reset_clock(self, node_id: str) -> None: ...
    def record(self, f: str, value: Any) -> None: ...


def parse_kinds(spec: str | list[str] | None) -> list[str]:
    """`"partition,kill"` -> ["partition", "kill"], with a clear error for a typo."""
    if not spec:
        return []
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    kinds = []
    for name in (n.strip() for n in names):
        if not name or name == "none":
            continue
        if name not in KINDS:
            raise ValueError(f"unknown nemesis {name!r}; choose from {', '.join(KINDS)}")
        if name not in kinds:
            kinds.append(name)
    return kinds


def _targets(nodes: list[str], rng: random.Random) -> list[str]:
    """Jepsen's target specs: one node, a minority, a majority, or all of them."""
    n = len(nodes)
    size = {"one": 1, "minority": max(1, (n - 1) // 2), "majority": n // 2 + 1, "all": n}[
        rng.choice(("one", "minority", "majority", "all"))
    ]
    return sorted(rng.sample(nodes, size))


class Nemesis:
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

    async def run(self, until: float, now: Any) -> None:
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

    async def _run_fixed(self, until: float, now: Any) -> None:
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
        if "partition" in self.kinds and len(self.control.node_ids) < 2:
            out.append("--nemesis partition with a single node: there is no other node to cut it off from")
        return out

    def _record(self, f: str, value: Any) -> None:
        self.counts[f] = self.counts.get(f, 0) + 1
        self.control.record(f, value)

    async def start(self, kind: str) -> None:
        if kind in self.active:  # one fault of a kind at a time: heal the old one first
            await self.stop(kind)
        c, rng = self.control, self.rng
        nodes = list(c.node_ids)
        if kind == "partition":
            shape = rng.choice(sorted(PARTITIONS)) if len(nodes) > 2 else "isolate-one"
            grudge = PARTITIONS[shape](nodes, rng)
            c.network.partition(grudge)
            value: Any = {"shape": shape, "grudge": {k: sorted(v) for k, v in sorted(grudge.items()) if v}}
        elif kind == "kill":
            value = _targets(nodes, rng)
            for node in value:
                c.crash(node)
        elif kind == "pause":
            value = _targets(nodes, rng)
            for node in value:
                c.pause(node)
        elif kind == "clock":
            value = {}
            mode = rng.choice(("bump", "strobe", "drift"))
            for node in _targets(nodes, rng):
                if mode == "bump":
                    clock = {"offset": round(rng.uniform(-60, 60), 3)}
                elif mode == "strobe":
                    clock = {"strobe_delta": round(rng.uniform(-0.5, 0.5), 3), "strobe_period": 0.01}
                else:
                    clock = {"drift": round(rng.uniform(-0.1, 0.1), 4)}
                c.set_clock(node, **clock)
                value[node] = {"mode": mode, **clock}
        elif kind == "loss":
            loss, dup = round(rng.uniform(0.1, 0.5), 3), round(rng.uniform(0.0, 0.3), 3)
            c.network.set_loss(loss, dup)
            value = {"loss": loss, "duplication": dup}
        else:  # parse_kinds rejects anything else
            raise ValueError(kind)
        self.active[kind] = value
        self._record(f"start-{kind}", value)

    async def stop(self, kind: str) -> None:
        c = self.control
        value = self.active.pop(kind)
        if kind == "partition":
            c.network.heal()
            healed: Any = "network healed"
        elif kind == "kill":
            for node in value:
                await c.restart(node)
            healed = value
        elif kind == "pause":
            for node in value:
                c.resume(node)
            healed = value
        elif kind == "clock":
            for node in value:
                c.reset_clock(node)
            healed = sorted(value)
        else:
            c.network.restore_loss()
            healed = "loss restored"
        self._record(f"stop-{kind}", healed)

    async def heal_all(self) -> None:
        for kind in [k for k in KINDS if k in self.active]:
            await self.stop(kind)
