"""Networker checkers: the node's answers held against the backend's own record.

The history says what each client was told; the backend service's record
(services.json in the run directory) says what was really done, and when. Some
rules hold in every Networker task, because they are what an answer means:

- an acknowledged request was executed, and its receipt is one the backend issued for it;
- a charge is executed at most once (a second execution charges the customer twice);
- a definite error (11) tells the client nothing happened: the backend must not have executed it.

Each task adds its own rule (a bound on answer time, deadlines, calls during an
outage, a quota, tail latency, per-class availability), given when the checker
is built. Every failure is a sentence naming the request and the time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distlab.checkers.api import History, Params, Verdict
from distlab.checkers.pairing import calls as paired_calls
from distlab.history import FAIL, OK
from distlab.protocol import is_definite

GRACE = 0.5
"""Seconds into an outage before a node is expected to have noticed it (fail-fast rule)."""


@dataclass(frozen=True)
class Rules:
    """The task's own rules, beyond the ones every Networker task has (None: not checked)."""

    answer_within_s: float | None = None  # every request answered within this
    deadlines: bool = False  # no backend call or work after the client's deadline (invoke + budget_ms)
    deadline_slack_s: float = 0.02  # the network's part: one link's latency and a little
    calls_per_op_max: float | None = None  # backend calls per client request
    p99_ms: float | None = None  # 99th percentile latency of successful requests
    max_calls_per_outage: int | None = None  # calls reaching the backend while it is down
    fail_fast_ms: float | None = None  # answer time for requests made during an outage (after GRACE)
    recover_within_s: float | None = None  # requests this long after an outage must not be refused
    quota: int | None = None  # calls in any one-second window
    class_availability: dict[str, float] = field(default_factory=dict)  # request type -> fraction ok


def _s(ns: int) -> float:
    return ns / 1e9


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def check(history: History, record: Mapping[str, Any] | None, rules: Rules | None = None,
          outages: tuple[tuple[float, float], ...] = ()) -> dict[str, Any]:
    """A verdict dict: valid, figures, one list of cases per broken rule, and an
    explanation whose lines are the first case of each, most serious first."""
    rules = rules or Rules()
    backend_calls = list((record or {}).get("calls") or [])
    executions: dict[str, list[dict[str, Any]]] = {}
    for c in backend_calls:
        if c.get("outcome") == "executed":
            executions.setdefault(str(c.get("id")), []).append(c)
    ops = [(inv, done) for _, inv, _, done in paired_calls(history)]
    found: dict[str, list[str]] = {}

    def bad(kind: str, text: str) -> None:
        found.setdefault(kind, []).append(text)

    for rid, runs in executions.items():
        if len(runs) > 1 and runs[0].get("type") == "charge":
            times = ", ".join(f"t={r['done']:.3f} s" for r in runs[:3])
            bad("double_charge", f"charge {rid} was executed {len(runs)} times by the backend ({times}): "
                f"the customer paid {len(runs)} times for one request")
    latencies: list[float] = []
    for inv, done in ops:
        value = inv.get("value") if isinstance(inv.get("value"), dict) else {}
        rid, f, t0 = str(value.get("id")), inv.get("f"), _s(inv["time"])
        runs = executions.get(rid, [])
        if done is None:
            continue
        t1 = _s(done["time"])
        if done["type"] == OK:
            latencies.append(t1 - t0)
            if not runs:
                bad("unexecuted_ack", f"the node acknowledged {f} {rid} at t={t1:.3f} s, "
                    "but the backend never executed it")
            elif done.get("value") not in [r.get("receipt") for r in runs]:
                bad("wrong_receipt", f"the node answered {f} {rid} with receipt {done.get('value')!r}, "
                    f"which the backend never issued for it (it issued {runs[0].get('receipt')})")
        error = done.get("error") or [None]
        if done["type"] == FAIL and isinstance(error[0], int) and is_definite(error[0]) and runs:
            bad("false_failure", f"the node told the client {f} {rid} failed (error {error[0]}), "
                f"but the backend executed it at t={runs[0]['done']:.3f} s")
        if rules.answer_within_s is not None and t1 - t0 > rules.answer_within_s + 1e-9:
            bad("slow_answer", f"{f} {rid} took {t1 - t0:.2f} s to answer (from t={t0:.3f} s); "
                f"every request must be answered within {rules.answer_within_s:g} s")
        if rules.deadlines and isinstance(value.get("budget_ms"), int | float):
            deadline = t0 + value["budget_ms"] / 1000
            for c in backend_calls:
                if str(c.get("id")) != rid:
                    continue
                if c["t"] > deadline + rules.deadline_slack_s:
                    bad("call_after_deadline", f"the node called the backend for {f} {rid} at t={c['t']:.3f} s, "
                        f"{c['t'] - deadline:.3f} s after its client's deadline (t={deadline:.3f} s)")
                elif c.get("outcome") == "executed" and c["done"] > deadline + rules.deadline_slack_s:
                    bad("work_after_deadline", f"the backend was still working on {f} {rid} until "
                        f"t={c['done']:.3f} s, {c['done'] - deadline:.3f} s after its client's deadline "
                        f"(t={deadline:.3f} s): the deadline was not passed on")
    n_ops = len(ops)
    figures: dict[str, Any] = {
        "request_count": n_ops,
        "ok_count": len(latencies),
        "backend_calls": len(backend_calls),
        "executions": sum(len(r) for r in executions.values()),
        "calls_per_request": round(len(backend_calls) / n_ops, 3) if n_ops else 0.0,
    }
    if latencies:
        figures["p99_ms"] = round(_percentile(latencies, 0.99) * 1000, 1)
    if rules.calls_per_op_max is not None and n_ops and len(backend_calls) / n_ops > rules.calls_per_op_max:
        bad("too_many_calls", f"the node made {len(backend_calls) / n_ops:.2f} backend calls per request "
            f"({len(backend_calls)} for {n_ops}); at most {rules.calls_per_op_max:g} are allowed")
    if rules.p99_ms is not None and len(latencies) >= 20 and figures["p99_ms"] > rules.p99_ms:
        bad("slow_tail", f"the p99 latency of successful requests was {figures['p99_ms']:.0f} ms; "
            f"the target is {rules.p99_ms:g} ms")
    _outage_rules(rules, outages, ops, backend_calls, bad)
    if rules.quota is not None:
        times = sorted(c["t"] for c in backend_calls)
        lo = 0
        worst, worst_at = 0, 0.0
        for hi, t in enumerate(times):
            while times[lo] <= t - 1.0:
                lo += 1
            if hi - lo + 1 > worst:
                worst, worst_at = hi - lo + 1, times[lo]
        figures["max_calls_per_second"] = worst
        if worst > rules.quota:
            bad("over_quota", f"the backend received {worst} calls in the second from t={worst_at:.3f} s; "
                f"the quota is {rules.quota}")
    for f, need in rules.class_availability.items():
        mine = [done for inv, done in ops if inv.get("f") == f]
        if not mine:
            continue
        got = sum(1 for done in mine if done is not None and done["type"] == OK) / len(mine)
        figures[f"{f}_availability"] = round(got, 4)
        if got < need:
            bad("starved", f"only {got:.1%} of {f} requests succeeded; at least {need:.0%} must")
    order = ("double_charge", "false_failure", "unexecuted_ack", "wrong_receipt", "call_after_deadline",
             "work_after_deadline", "slow_answer", "outage_calls", "slow_failure", "not_recovered",
             "over_quota", "slow_tail", "too_many_calls", "starved")
    kinds = [k for k in order if k in found]
    out: dict[str, Any] = {"valid": not kinds, **figures}
    for kind in kinds:
        out[f"{kind}_count"] = len(found[kind])
        out[kind] = found[kind][:10]
    if kinds:
        out["explanation"] = "\n".join(found[k][0] for k in kinds)
    return out


def _outage_rules(rules: Rules, outages: tuple[tuple[float, float], ...], ops: list[Any],
                  backend_calls: list[dict[str, Any]], bad: Any) -> None:
    for i, (start, end) in enumerate(outages):
        if rules.max_calls_per_outage is not None:
            during = [c for c in backend_calls if start <= c["t"] < end]
            if len(during) > rules.max_calls_per_outage:
                bad("outage_calls", f"the node sent {len(during)} calls to the backend during its outage "
                    f"from t={start:g} s to t={end:g} s; at most {rules.max_calls_per_outage} are allowed "
                    "(stop calling a dependency that is down)")
        slow: list[tuple[Any, float, float]] = []
        for inv, done in ops:
            t0 = _s(inv["time"])
            if done is None:
                continue
            t1, rid = _s(done["time"]), (inv.get("value") or {}).get("id")
            if rules.fail_fast_ms is not None and start + GRACE <= t0 < end and t1 - t0 > rules.fail_fast_ms / 1000:
                slow.append((f"{inv.get('f')} {rid}", t0, t1))
            next_start = outages[i + 1][0] if i + 1 < len(outages) else float("inf")
            if (rules.recover_within_s is not None and end + rules.recover_within_s <= t0 < next_start
                    and done["type"] == FAIL):  # refused (a timeout may be the network's doing)
                bad("not_recovered", f"{inv.get('f')} {rid} was refused at t={t1:.3f} s, "
                    f"{t0 - end:.1f} s after the backend came back (t={end:g} s)")
        allowed = rules.max_calls_per_outage or 0  # the calls that find it down: each may wait a timeout
        if len(slow) > allowed:
            what, t0, t1 = slow[0]
            bad("slow_failure", f"{len(slow)} requests made while the backend was down (from t={start:g} s "
                f"to t={end:g} s) took over {rules.fail_fast_ms:g} ms to answer, at most {allowed} may "
                f"(the first: {what} at t={t0:.3f} s took {(t1 - t0) * 1000:.0f} ms); fail fast instead")


def read_record(params: Params, service: str = "backend") -> dict[str, Any] | None:
    """The service's record from the run directory (None: no run directory, or nobody called it)."""
    run_dir = params.get("run_dir")
    if not run_dir:
        return None
    path = Path(run_dir) / "services.json"
    if not path.exists():
        return None
    return json.loads(path.read_text()).get(service)


@dataclass
class BackendChecker:
    """The history against the backend's record; `outages` as the workload's profile sets them."""

    rules: Rules = field(default_factory=Rules)
    outages: tuple[tuple[float, float], ...] = ()

    def check(self, history: History, params: Params) -> Verdict:
        if not params.get("run_dir"):
            return Verdict("unknown", explanation="the backend's record needs the run directory (services.json)")
        doc = check(history, read_record(params), self.rules, self.outages)
        kinds = [k for k in doc if isinstance(doc[k], list)]
        return Verdict.from_dict(doc, kinds)
