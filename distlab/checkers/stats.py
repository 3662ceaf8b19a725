"""Jepsen's stats checker and an availability threshold: every run has both.

`Stats`: counts per kind of completion and per function; every function invoked must
succeed at least once (a run whose every echo failed checks as "nothing wrong was
returned"; this is what makes it invalid). `Availability`: the fraction of client
operations that succeeded, held to `--availability` when one is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from distlab.checkers.api import History, Params, Verdict
from distlab.history import FAIL, INFO, INVOKE, NEMESIS, OK


def count(history: History) -> tuple[dict[str, int], dict[str, dict[str, Any]], int]:
    """Completions by type, per-function counts, and client invocations."""
    counts = {OK: 0, FAIL: 0, INFO: 0}
    by_f: dict[str, dict[str, Any]] = {}
    invokes = 0
    for rec in history:
        if rec["process"] == NEMESIS:
            continue
        per = by_f.get(rec["f"])
        if per is None:
            per = by_f[rec["f"]] = {"count": 0, OK: 0, FAIL: 0, INFO: 0}
        if rec["type"] == INVOKE:
            invokes += 1
            per["count"] += 1
            continue
        counts[rec["type"]] += 1
        per[rec["type"]] += 1
    return counts, by_f, invokes


def never_succeeded(by_f: dict[str, dict[str, Any]]) -> list[str]:
    """Marks each function valid or not; the ones invoked that never succeeded, described.
    Counts client operations of the main and final phases."""
    for per in by_f.values():
        per["valid"] = per[OK] > 0 or not per["count"]
    return [f"no {f!r} succeeded (0 ok of {per['count']})" for f, per in sorted(by_f.items()) if not per["valid"]]


@dataclass
class Stats:
    """Counts (count, ok, fail, info, pending, by_f); invalid when a function never succeeded."""

    def check(self, history: History, params: Params) -> Verdict:
        counts, by_f, invokes = count(history)
        errors = never_succeeded(by_f)
        figures = {"count": invokes, "ok": counts[OK], "fail": counts[FAIL], "info": counts[INFO],
                   "pending": invokes - sum(counts.values()), "by_f": by_f}
        return Verdict(not errors, anomalies={"errors": errors}, figures=figures)


@dataclass
class Availability:
    """The fraction of client operations that succeeded; invalid below `required`
    (None: any fraction is valid)."""

    required: float | None = None

    def check(self, history: History, params: Params) -> Verdict:
        counts, _, invokes = count(history)
        fraction = counts[OK] / invokes if invokes else 0.0
        valid = self.required is None or fraction >= self.required
        return Verdict(valid, figures={"ok_fraction": round(fraction, 6), "required": self.required})
