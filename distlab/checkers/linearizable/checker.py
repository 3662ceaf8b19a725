"""Linearizability as a `Checker` (distlab/checkers/api.py), for a run's composition."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from distlab.checkers.api import History, Params, Verdict

from .search import check


@dataclass
class Linearizable:
    """Every key's operations linearizable under `model`, within `budget` seconds
    (then "unknown"). Figures: ops, keys (partitions) and check_seconds."""

    model: str = "cas-register"
    budget: float | None = None

    def check(self, history: History, params: Params) -> Verdict:
        result = check(history, self.model, budget=self.budget)
        figures: dict[str, Any] = {"ops": result.ops, "keys": result.partitions,
                                   "check_seconds": round(result.elapsed, 4)}
        explanation = result.explain() if result.valid is not True else None
        return Verdict(result.valid, explanation=explanation, figures=figures)
