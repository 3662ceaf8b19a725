"""pn-counter: as g-counter (`add{delta}` -> `add_ok`, `read` -> `read_ok{value}`), deltas may be negative."""

from __future__ import annotations

from distlab.workloads.g_counter import GCounter


class PNCounter(GCounter):
    name = "pn-counter"
    negative = True

