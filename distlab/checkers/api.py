"""The checker interface: `check(history, params) -> Verdict`, and composing checkers.

As in Jepsen (`jepsen.checker/Checker`, `checker/compose`): a checker judges a
history and nothing else, so the same checker runs at the end of a run and later
on the saved history (`distlab analyze`). What a checker is configured with (a
model, consistency models) is given when it is built; `params` is what the run
itself was: the run's options as config.json holds them, plus `run_dir` when there
is a run directory (a checker reading node logs needs it).

A `Verdict` has one shape for every checker; `to_dict()` gives the dict that
results.json and `distlab analyze --json` have always shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

UNKNOWN = "unknown"

History = list[dict[str, Any]]
Params = Mapping[str, Any]


@dataclass(slots=True)
class Verdict:
    """One checker's judgement.

    `valid` is True, False or "unknown"; None means the checker found nothing it
    checks in this run (e.g. no Raft trace lines), and a composition leaves it out.
    `anomalies` names what is wrong (kind -> cases), `figures` is what was measured
    (counts, latencies), `explanation` says in words why an invalid history is one.
    """

    valid: Any
    anomalies: dict[str, Any] = field(default_factory=dict)
    explanation: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The verdict as results.json holds it: `valid`, then figures and anomalies, flat."""
        out: dict[str, Any] = {"valid": self.valid, **self.figures, **self.anomalies}
        if self.explanation is not None:
            out["explanation"] = self.explanation
        return out

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], anomaly_keys: Iterable[str] = ()) -> Verdict:
        """A checker's dict as a Verdict (the keys in `anomaly_keys` are its anomalies);
        `Verdict.from_dict(d).to_dict() == d` for any dict with a "valid" key."""
        keys = set(anomaly_keys)
        anomalies = {k: v for k, v in doc.items() if k in keys}
        figures = {k: v for k, v in doc.items() if k not in keys and k not in ("valid", "explanation")}
        return cls(doc.get("valid", UNKNOWN), anomalies, doc.get("explanation"), figures)


class Checker(Protocol):
    """Anything with `check(history, params) -> Verdict`."""

    def check(self, history: History, params: Params) -> Verdict: ...


def merge_valid(values: Iterable[Any]) -> Any:
    """Jepsen's merge-valid: any False makes the whole False, else any unknown makes it
    unknown, else True (an empty composition is True: nothing was wrong)."""
    result: Any = True
    for value in values:
        if value is False:
            return False
        if value is not True:
            result = UNKNOWN
    return result


@dataclass
class FunctionChecker:
    """A checker made of a function from a history to a verdict dict (how the checker
    modules are written: `set_full.check`, `counters.check`, ...), with its options."""

    fn: Callable[..., Mapping[str, Any]]
    options: dict[str, Any] = field(default_factory=dict)
    anomaly_keys: tuple[str, ...] = ()

    def check(self, history: History, params: Params) -> Verdict:
        return Verdict.from_dict(self.fn(history, **self.options), self.anomaly_keys)


@dataclass
class Compose:
    """Several checkers as one (Jepsen's checker/compose): each judges the same history;
    the verdict holds each one's dict under its name, and `valid` merges theirs. A
    checker whose verdict is None-valid (nothing to check) is left out."""

    checkers: dict[str, Checker]

    def check(self, history: History, params: Params) -> Verdict:
        parts: dict[str, Any] = {}
        for name, checker in self.checkers.items():
            verdict = checker.check(history, params)
            if verdict.valid is not None:
                parts[name] = verdict.to_dict()
        return Verdict(merge_valid(p["valid"] for p in parts.values()), figures=parts)
