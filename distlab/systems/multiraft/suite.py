"""Run the region-lab scenarios (TinyKV 3B and 3C) on a set of pieces, one outcome per
scenario: what `distlab region-lab` prints and what tests and the campaign read.

A scenario fails on the first seed whose run is not linearizable per key, breaks Raft
safety in a region group, breaks a piece's contract or the anchor's own assertion; an
exception raised inside the learner's code is a failure naming the learner's line, and a
run still going after `timeout` seconds is reported as such instead of hanging.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from distlab.systems.raft.suite import Overran, within

from .cluster import SafetyViolation
from .lab import LabResult
from .lab3c import SCENARIOS
from .pieces import ContractViolation, Pieces

_DISTLAB = str(Path(__file__).resolve().parents[2])


@dataclass
class Outcome:
    name: str
    status: str  # "pass" | "fail" | "timeout"
    seeds_passed: int
    seeds: int
    seconds: float
    seed: int | None = None  # the failing seed
    detail: str = ""
    result: LabResult | None = None  # the last run that finished


def describe(exc: BaseException) -> str:
    """One line: the verdict of a check, or the exception and the learner's line."""
    first = str(exc).splitlines()[0] if str(exc) else ""
    if isinstance(exc, SafetyViolation):
        return f"Raft safety: {first}"
    if isinstance(exc, ContractViolation | AssertionError):
        if first:
            return first
        # A bare `assert` in a scenario: its source line is the only statement of what failed.
        inside = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(_DISTLAB)]
        if inside and inside[-1].line:
            f = inside[-1]
            return f"the scenario's check failed: {f.line} ({Path(f.filename).name}:{f.lineno})"
        return type(exc).__name__
    text = f"{type(exc).__name__}: {first}".rstrip(": ")
    outside = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(_DISTLAB)]
    if outside:
        f = outside[-1]
        text += f" (at {f.filename}:{f.lineno} in {f.name})"
    return f"raised {text}"


def verdict(r: LabResult) -> str | None:
    """Why a finished run fails, or None."""
    if r.linearizable is True:
        return None
    lines = r.explanation.splitlines()
    head = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("cannot linearize:")),
                lines[0] if lines else "the checker gave up")
    if r.linearizable is False:
        return f"the clients' history is not linearizable: {head}"
    return f"linearizability unknown (the checker ran out of budget): {head}"


def run_scenario(name: str, pieces: Pieces | None, seeds: range, timeout: float = 120.0,
                 on_seed: Callable[[str, int], None] | None = None) -> Outcome:
    """Run `name` on each seed until one fails."""
    start = time.perf_counter()
    run = SCENARIOS[name]
    passed = 0
    last: LabResult | None = None
    for seed in seeds:
        if on_seed is not None:
            on_seed(name, seed)
        try:
            last = within(timeout, partial(run, seed, pieces))
            why = verdict(last)
        except Overran:
            return Outcome(name, "timeout", passed, len(seeds), time.perf_counter() - start, seed,
                           f"still running after {timeout:g} s (an endless loop?)")
        except Exception as exc:  # noqa: BLE001 - a check's verdict or the learner's bug
            why = describe(exc)
        if why is not None:
            return Outcome(name, "fail", passed, len(seeds), time.perf_counter() - start, seed, why, last)
        passed += 1
    detail = last.detail if last is not None else ""
    return Outcome(name, "pass", passed, len(seeds), time.perf_counter() - start, detail=detail, result=last)


__all__ = ["Outcome", "SCENARIOS", "describe", "run_scenario", "verdict"]
