"""The tester's in-memory network and its link faults, all drawn from one seeded rng.

Reliable, a message is due in the tick it was sent (plus `latency`). Unreliable, like
6.824's network, it is dropped (10%), duplicated (5%) and delayed 0-3 ticks, sometimes
5-25 (so also reordered). `disconnect`/`connect` cut a node off in both directions
(messages in flight to or from it are lost), `cut`/`mend` one link between two nodes
(a partial partition); `hold`/`release` stall what a node sends
and deliver it late in one burst. Every message sent is counted by kind (and
kind/reject) and sized in bytes, for the scenarios' RPC budgets.
"""

from __future__ import annotations

import heapq
import pickle
import random
from collections import Counter
from typing import Any

import orjson


def kind_of(m: Any) -> str:
    """A message's kind: its `.kind`, else its class name."""
    return getattr(m, "kind", type(m).__name__)


def size_of(m: Any) -> int:
    """A message's size in bytes: its `to_dict()` as JSON, else its pickled size."""
    to_dict = getattr(m, "to_dict", None)
    if to_dict is not None:
        return len(orjson.dumps(to_dict()))
    return len(pickle.dumps(m, protocol=pickle.HIGHEST_PROTOCOL))


class Network:
    """Messages in flight between `ids`, due at a tick; `rng` decides every loss and delay."""

    def __init__(self, ids: list[str], rng: random.Random, *, reliable: bool = True,
                 latency: int = 0) -> None:
        self.rng = rng
        self.reliable = reliable
        self.latency = latency  # ticks every message takes, on top of any unreliable delay
        self.connected = dict.fromkeys(ids, True)
        self.held: dict[str, list[Any]] = {}  # node -> what it sent while held back
        self.cuts: set[frozenset[str]] = set()  # links down between two connected nodes
        self.queue: list[tuple[int, int, Any]] = []  # (due tick, seq, message)
        self._seq = 0
        self.rpcs: Counter[str] = Counter()  # messages sent, by kind (and kind/reject)
        self.bytes_sent = 0  # JSON size of every message sent (6.824's RPC bytes)

    # ----- faults -----------------------------------------------------------------------
    def disconnect(self, i: str) -> None:
        self.connected[i] = False

    def connect(self, i: str) -> None:
        self.connected[i] = True

    def hold(self, i: str) -> None:
        """Hold back what i sends from now on (a link that stalls), until `release`."""
        self.held.setdefault(i, [])

    def release(self, i: str, now: int) -> int:
        """Send everything held back from i at once, in order; returns how many."""
        held = self.held.pop(i, [])
        for m in held:
            self.transmit(m, now)
        return len(held)

    def cut(self, a: str, b: str) -> None:
        """Take down the link between a and b only (a partial partition)."""
        self.cuts.add(frozenset((a, b)))

    def mend(self, a: str, b: str) -> None:
        self.cuts.discard(frozenset((a, b)))

    def link_up(self, m: Any) -> bool:
        """Whether both ends of m's link are connected and the link itself is not cut."""
        if self.cuts and frozenset((m.src, m.dest)) in self.cuts:
            return False
        return self.connected[m.src] and self.connected[m.dest]

    # ----- sending ----------------------------------------------------------------------
    def send(self, m: Any, now: int) -> None:
        """Count m, then hold it back (a stalled sender) or put it on the wire."""
        kind = kind_of(m)
        self.rpcs[kind] += 1
        self.bytes_sent += size_of(m)
        if getattr(m, "reject", False):
            self.rpcs[f"{kind}/reject"] += 1
        if m.src in self.held:
            self.held[m.src].append(m)
            return
        self.transmit(m, now)

    def transmit(self, m: Any, now: int) -> None:
        """Queue m for delivery: lost if its link is down, else as reliable (or not) decides."""
        if not self.link_up(m):
            return
        base = now + self.latency
        if self.reliable:
            self._enqueue(base, m)
            return
        r = self.rng.random()
        if r < 0.1:
            return  # dropped
        copies = 2 if self.rng.random() < 0.05 else 1
        for _ in range(copies):
            if self.rng.random() < 0.1:
                delay = self.rng.randint(5, 25)
            else:
                delay = self.rng.randint(0, 3)
            self._enqueue(base + delay, m)

    def _enqueue(self, due: int, m: Any) -> None:
        self._seq += 1
        heapq.heappush(self.queue, (due, self._seq, m))

    # ----- receiving --------------------------------------------------------------------
    def pop_due(self, now: int) -> tuple[int, int, Any] | None:
        """The next queued message due by `now` (as (due, seq, message)), or None."""
        if not self.queue or self.queue[0][0] > now:
            return None
        return heapq.heappop(self.queue)

    def requeue(self, items: list[tuple[int, int, Any]]) -> None:
        """Put back popped messages (for a paused node) with their original order."""
        for item in items:
            heapq.heappush(self.queue, item)
