"""pn-counter: as g-counter, with negative deltas too."""

from __future__ import annotations

from distlab.workloads.g_counter import GCounter


class PNCounter(GCounter):
    name = "pn-counter"
    negative = True

