"""The Networker checker: known-good and known-bad histories against a backend record,
each broken rule caught with its sentence; a brute-force check of the quota window;
and the checker reading a real run's services.json."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson

from distlab.checkers.backend import BackendChecker, Rules, check
from distlab.history import FAIL, INFO, INVOKE, OK, History

S = 1_000_000_000  # history times are nanoseconds


class Scene:
    """A history and a backend record written side by side."""

    def __init__(self) -> None:
        self.h = History()
        self.calls: list[dict[str, Any]] = []
        self.receipt = 0

    def op(self, rid: str, t0: float, t1: float | None, kind: str = OK, f: str = "charge",
           receipt: Any = None, error: Any = None, budget_ms: int | None = None, process: int = 0) -> None:
        value: dict[str, Any] = {"id": rid, "amount": 5} if f == "charge" else {"id": rid}
        if budget_ms is not None:
            value["budget_ms"] = budget_ms
        self.h.add(t0, process, INVOKE, f, value)
        if t1 is not None:
            self.h.add(t1, process, kind, f, receipt if kind == OK else value, error=error)

    def call(self, rid: str, t: float, outcome: str = "executed", done: float | None = None,
             f: str = "charge") -> int | None:
        rec: dict[str, Any] = {"t": t, "src": "n0", "type": f, "id": rid, "outcome": outcome,
                               "done": done if done is not None else t + 0.005}
        if outcome == "executed":
            self.receipt += 1
            rec["receipt"] = self.receipt
        self.calls.append(rec)
        return rec.get("receipt")

    def check(self, rules: Rules | None = None, outages: tuple[tuple[float, float], ...] = ()) -> dict[str, Any]:
        return check(self.h.records, {"calls": self.calls}, rules, outages)


def good_scene() -> Scene:
    s = Scene()
    for i in range(20):
        t = i * 0.1
        r = s.call(f"r{i}", t + 0.01)
        s.op(f"r{i}", t, t + 0.02, receipt=r, process=i % 3)
    s.call("r20", 2.01, "busy")
    s.op("r20", 2.0, 2.02, FAIL, error=[11, "busy"])
    s.call("r21", 2.1, "executed")  # executed, but the reply was lost: unknown is honest
    s.op("r21", 2.1, 2.6, INFO, error=[0, "timeout"])
    return s


def test_a_truthful_history_is_valid_with_figures() -> None:
    out = good_scene().check(Rules(answer_within_s=1.0, quota=11, calls_per_op_max=1.1, p99_ms=100))
    assert out["valid"] is True, out
    assert out["request_count"] == 22 and out["ok_count"] == 20 and out["executions"] == 21
    assert out["calls_per_request"] == 1.0 and out["max_calls_per_second"] == 11


def test_every_universal_rule_catches_its_lie() -> None:
    s = good_scene()
    s.op("r30", 3.0, 3.01, receipt=0)  # acknowledged, never sent
    r = s.call("r31", 3.1)
    s.op("r31", 3.1, 3.2, receipt=(r or 0) + 100)  # a made-up receipt
    s.call("r32", 3.3)
    s.op("r32", 3.3, 3.6, FAIL, error=[11, "gave up"])  # "failed", but it ran
    s.call("r33", 3.7)
    r = s.call("r33", 3.8)
    s.op("r33", 3.7, 3.9, receipt=r)  # charged twice
    out = s.check()
    assert out["valid"] is False
    assert out["unexecuted_ack"] == ["the node acknowledged charge r30 at t=3.010 s, but the backend never executed it"]
    assert "receipt 122, which the backend never issued for it (it issued 22)" in out["wrong_receipt"][0]
    assert out["false_failure"] == ["the node told the client charge r32 failed (error 11), "
                                    "but the backend executed it at t=3.305 s"]
    assert out["double_charge"][0].startswith("charge r33 was executed 2 times by the backend")
    assert out["explanation"].splitlines()[0] == out["double_charge"][0]  # the most serious first


def test_repeats_of_harmless_requests_are_allowed() -> None:
    s = Scene()
    s.call("r1", 0.0, f="notify")
    r = s.call("r1", 0.2, f="notify")
    s.op("r1", 0.0, 0.3, receipt=r, f="notify")
    assert s.check()["valid"] is True


def test_answer_time_bound() -> None:
    s = good_scene()
    s.op("r40", 5.0, 10.0, INFO, error=[0, "client timed out"])
    out = s.check(Rules(answer_within_s=1.0))
    assert out["slow_answer"] == ["charge r40 took 5.00 s to answer (from t=5.000 s); "
                                  "every request must be answered within 1 s"]
    assert s.check()["valid"] is True  # not a rule unless the task asks for it


def test_deadlines_no_call_and_no_work_after_the_client_gave_up() -> None:
    rules = Rules(deadlines=True)
    s = Scene()
    r = s.call("r1", 0.01, done=0.2)
    s.op("r1", 0.0, 0.21, receipt=r, budget_ms=300)
    assert s.check(rules)["valid"] is True
    late_work = Scene()
    late_work.call("r1", 0.01, done=0.45)
    late_work.op("r1", 0.0, 0.3, INFO, error=[0, "deadline"], budget_ms=300)
    out = late_work.check(rules)
    assert out["work_after_deadline"] == ["the backend was still working on charge r1 until t=0.450 s, 0.150 s "
                                          "after its client's deadline (t=0.300 s): the deadline was not passed on"]
    late_call = Scene()
    late_call.call("r1", 0.4, "expired")
    late_call.op("r1", 0.0, 0.5, INFO, error=[0, "deadline"], budget_ms=300)
    assert "called the backend for charge r1 at t=0.400 s" in late_call.check(rules)["call_after_deadline"][0]
    assert late_work.check()["valid"] is True  # only when the task asks


def test_outage_rules() -> None:
    outage = ((1.0, 2.0),)
    rules = Rules(max_calls_per_outage=3, fail_fast_ms=50, recover_within_s=0.5)
    good = Scene()
    for i, t in enumerate([1.0, 1.05, 1.1]):  # three calls find it down ...
        good.call(f"r{i}", t, "down")
        good.op(f"r{i}", t, t + 0.2, INFO, error=[0, "timeout"])
    for i in range(3, 10):  # ... then the node fails fast
        good.op(f"r{i}", 1.0 + i * 0.1, 1.0 + i * 0.1 + 0.001, FAIL, error=[11, "circuit open"])
    r = good.call("r10", 2.6)
    good.op("r10", 2.6, 2.62, receipt=r)
    assert good.check(rules, outage)["valid"] is True

    flood = Scene()
    for i in range(12):
        t = 1.0 + i * 0.08
        flood.call(f"r{i}", t, "down")
        flood.op(f"r{i}", t, t + 0.2, INFO, error=[0, "timeout"])
    out = flood.check(rules, outage)
    assert out["outage_calls"][0].startswith("the node sent 12 calls to the backend during its outage from t=1 s")
    assert out["slow_failure"][0].startswith("5 requests made while the backend was down")  # from 1.5 s on

    stuck = Scene()
    stuck.op("r1", 2.7, 2.701, FAIL, error=[11, "circuit open"])
    stuck.op("r2", 2.8, 3.3, INFO, error=[0, "timeout"])  # a timeout is not proof of a stuck breaker
    out = stuck.check(rules, outage)
    assert out["not_recovered"] == ["charge r1 was refused at t=2.701 s, 0.7 s after the backend came back (t=2 s)"]
    assert "not_recovered" not in stuck.check(Rules(), outage)


def test_quota_window_matches_brute_force() -> None:
    rng = random.Random(5)
    for _ in range(50):
        s = Scene()
        times = sorted(round(rng.uniform(0, 3), 3) for _ in range(rng.randint(1, 60)))
        for i, t in enumerate(times):
            s.call(f"r{i}", t, "executed")
        worst = max(sum(1 for u in times if t <= u < t + 1.0) for t in times)
        out = s.check(Rules(quota=10))
        assert out["max_calls_per_second"] == worst
        assert out["valid"] is (worst <= 10)


def test_tail_latency_calls_per_request_and_class_availability() -> None:
    s = Scene()
    for i in range(100):
        r = s.call(f"r{i}", i * 0.01, f="quote")
        slow = i % 10 == 0
        s.op(f"r{i}", i * 0.01, i * 0.01 + (0.4 if slow else 0.01), receipt=r, f="quote")
    out = s.check(Rules(p99_ms=100))
    assert out["slow_tail"] == ["the p99 latency of successful requests was 400 ms; the target is 100 ms"]
    for i in range(100):
        s.call(f"r{i}", i * 0.01 + 0.03, f="quote")
    out = s.check(Rules(calls_per_op_max=1.3))
    assert out["too_many_calls"] == ["the node made 2.00 backend calls per request (200 for 100); at most 1.3 are allowed"]

    mixed = Scene()
    for i in range(10):
        r = mixed.call(f"c{i}", i * 0.1)
        ok = i < 7
        mixed.op(f"c{i}", i * 0.1, i * 0.1 + 0.01, OK if ok else FAIL, receipt=r if ok else None,
                 error=None if ok else [11, "pool"])
        if not ok:
            mixed.calls[-1]["outcome"] = "pool"
    out = mixed.check(Rules(class_availability={"charge": 0.99, "report": 0.5}))
    assert out["starved"] == ["only 70.0% of charge requests succeeded; at least 99% must"]
    assert out["charge_availability"] == 0.7 and "report_availability" not in out


def test_the_checker_reads_the_run_directory(tmp_path: Path) -> None:
    s = good_scene()
    (tmp_path / "services.json").write_bytes(orjson.dumps({"backend": {"profile": {}, "calls": s.calls}}))
    verdict = BackendChecker().check(s.h.records, {"run_dir": str(tmp_path)})
    assert verdict.valid is True
    s.op("r50", 6.0, 6.1, receipt=1)
    verdict = BackendChecker().check(s.h.records, {"run_dir": str(tmp_path)})
    assert verdict.valid is False and "r50" in (verdict.explanation or "")
    empty = tmp_path / "none"
    empty.mkdir()  # nobody called the backend: an acknowledgement is then a lie
    verdict = BackendChecker().check(s.h.records, {"run_dir": str(empty)})
    assert verdict.valid is False and "never executed" in (verdict.explanation or "")
    assert BackendChecker().check(s.h.records, {}).valid == "unknown"


KEYED = """
@node.on("charge")
async def charge(msg):
    body = {"type": "charge", "id": msg.body["id"], "amount": msg.body["amount"], "key": KEY}
    while True:
        try:
            reply = await node.rpc("backend", body, timeout=0.1)
            return {"type": "charge_ok", "receipt": reply.body["receipt"]}
        except Exception:
            await asyncio.sleep(0.01)
"""


def test_a_real_run_is_judged_by_the_backends_record(tmp_path: Path, simulate: Any) -> None:
    from tests.test_sim import write_node

    def run(key: str) -> Any:
        path = write_node(tmp_path, KEYED.replace("KEY", key), name=f"n{abs(hash(key))}.py")
        return simulate(path, workload="backend-exactly-once", time_limit=3, rate=50, concurrency="10",
                        latency=5, loss=0.2, duplication=0.2, seed=2)

    keyed = run('msg.body["id"]')
    assert keyed.valid is True, keyed.results["workload"]
    assert (keyed.run_dir / "services.json").exists()
    unkeyed = run("None")  # retries without a key: the backend charges again
    assert unkeyed.valid is False
    assert unkeyed.results["workload"]["double_charge_count"] > 0
