"""The `backend` service: what it executes and records, how it misbehaves by profile,
and that both runtimes deliver its reply only after its work time."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from distlab.protocol import SERVICE_IDS, RPCError
from distlab.runner import Runner
from distlab.services import make_services
from distlab.services.backend import Backend, Profile
from tests.test_sim import ask, drive, make_runner, write_node


def call(b: Backend, now: float = 0.0, src: str = "n0", **body: Any) -> tuple[dict[str, Any] | None, float]:
    return b.respond(src, {"msg_id": 1, **body}, now)


def test_backend_is_a_service_with_an_id() -> None:
    assert "backend" in SERVICE_IDS
    assert isinstance(make_services(1)["backend"], Backend)


def test_every_execution_gets_its_own_receipt_and_is_recorded() -> None:
    b = Backend(random.Random(1))
    assert b.record() is None  # nobody called: nothing written
    r1, d1 = call(b, type="charge", id="r1", amount=5)
    r2, _ = call(b, 0.1, type="charge", id="r1", amount=5)  # no key: charged again
    assert r1 is not None and r2 is not None and d1 == pytest.approx(0.005)
    assert r1 == {"type": "charge_ok", "receipt": r1["receipt"], "in_reply_to": 1}
    assert 0 < r1["receipt"] < r2["receipt"]
    calls = b.record()["calls"]  # type: ignore[index]
    assert [(c["id"], c["outcome"], c["receipt"]) for c in calls] == [
        ("r1", "executed", r1["receipt"]), ("r1", "executed", r2["receipt"])]
    assert calls[1]["done"] == pytest.approx(0.105)


def test_the_plain_service_interface_serves_and_records_too() -> None:
    b = Backend(random.Random(1))
    out = b.handle("n0", {"type": "charge", "id": "r1", "amount": 5}, 0.0)
    assert out["type"] == "charge_ok" and out["receipt"] > 0
    with pytest.raises(RPCError):  # a refusal is an RPCError, as Service.handle's contract says
        b.handle("n0", {"type": "launch", "id": "r2"}, 0.0)
    assert [(c["id"], c["outcome"]) for c in b.calls] == [("r1", "executed"), ("r2", "unsupported")]
    assert b.reply("n0", {"type": "launch", "id": "r3", "msg_id": 7}, 0.0)["code"] == 10  # type: ignore[index]


def test_bad_requests_are_refused_and_execute_nothing() -> None:
    b = Backend(random.Random(1))
    assert call(b, type="charge", id="r1")[0]["code"] == 12  # type: ignore[index]  (no amount)
    assert call(b, type="launch", id="r1")[0]["code"] == 10  # type: ignore[index]
    assert all(c["outcome"] != "executed" for c in b.calls)


def test_an_idempotency_key_replays_the_first_receipt_after_its_work() -> None:
    b = Backend(random.Random(1), Profile(latency=0.5))
    first, _ = call(b, type="charge", id="r1", amount=5, key="k1")
    again, delay = call(b, 0.1, type="charge", id="r1", amount=5, key="k1")
    assert again is not None and first is not None and again["receipt"] == first["receipt"]
    assert delay == pytest.approx(0.4)  # answered when the first one's work is done
    assert [c["outcome"] for c in b.calls] == ["executed", "replayed"]


def test_a_budget_too_short_for_the_work_abandons_it() -> None:
    b = Backend(random.Random(1), Profile(latency=0.2))
    reply, delay = call(b, type="charge", id="r1", amount=1, budget_ms=100)
    assert reply is not None and reply["code"] == 0 and delay == pytest.approx(0.1)
    reply, _ = call(b, type="charge", id="r2", amount=1, budget_ms=0)
    assert reply is not None and reply["code"] == 0
    reply, _ = call(b, type="charge", id="r3", amount=1, budget_ms=300)
    assert reply is not None and reply["type"] == "charge_ok"
    assert [c["outcome"] for c in b.calls] == ["expired", "expired", "executed"]


def test_a_busy_rejection_may_take_time_and_does_nothing() -> None:
    b = Backend(random.Random(1), Profile(reject_p=1.0, reject_after=0.1))
    reply, delay = call(b, type="charge", id="r1", amount=1)
    assert reply is not None and reply["code"] == 11 and delay == pytest.approx(0.1)
    assert b.calls[0]["outcome"] == "busy" and "receipt" not in b.calls[0]


def test_outage_quota_pool_and_rejections() -> None:
    down = Backend(random.Random(1), Profile(outages=((1.0, 2.0),)))
    assert call(down, 1.5, type="quote", id="q")[0] is None
    assert call(down, 2.0, type="quote", id="q")[0] is not None
    assert [c["outcome"] for c in down.calls] == ["down", "executed"]

    quota = Backend(random.Random(1), Profile(quota=3))
    codes = [call(quota, 0.1 * i, type="quote", id=f"q{i}")[0].get("code") for i in range(5)]  # type: ignore[union-attr]
    assert codes == [None, None, None, 11, 11]
    assert call(quota, 1.25, type="quote", id="q")[0]["type"] == "quote_ok"  # type: ignore[index]

    pool = Backend(random.Random(1), Profile(pool=2, endpoint_seconds={"report": 1.0}))
    outcomes = [call(pool, 0.0, src, type="report", id="r")[0].get("code") for src in ("n0", "n0", "n0", "n1")]  # type: ignore[union-attr]
    assert outcomes == [None, None, 11, None]  # the pool is per caller
    assert call(pool, 1.0, type="report", id="r")[0]["type"] == "report_ok"  # type: ignore[index]

    busy = Backend(random.Random(1), Profile(reject_p=0.5))
    results = [call(busy, type="quote", id="q")[0].get("code") for _ in range(200)]  # type: ignore[union-attr]
    assert 60 < results.count(11) < 140


def test_the_profile_is_reproducible_by_seed() -> None:
    def run() -> list[Any]:
        b = Backend(random.Random("7/service/backend"), Profile(slow_p=0.3, slow=(0.1, 0.9)))
        return [call(b, i * 0.01, type="quote", id=f"q{i}")[1] for i in range(50)]

    delays = run()
    assert delays == run() and max(delays) > 0.1 > min(delays)


TIMED_NODE = """
@node.on("echo")
async def echo(msg):
    start = node.now()
    reply = await node.rpc("backend", {"type": "quote", "id": "q1"}, timeout=5.0)
    return {"type": "echo_ok", "echo": [reply.body["receipt"], node.now() - start]}
"""


def slow_backend_round_trip(tmp_path: Path, mode: str) -> tuple[list[Any], dict[str, Any]]:
    runner = make_runner(tmp_path, write_node(tmp_path, TIMED_NODE), node_count=1, latency=5, seed=3, mode=mode)
    runner.cluster.services["backend"].configure(Profile(latency=0.3))

    async def script(r: Runner) -> list[Any]:
        return [(await ask(r, "n0", {"type": "echo", "echo": ""}))["echo"] for _ in range(2)]

    replies = drive(runner, script)
    runner._finish(None, 0.0)
    return replies, orjson.loads((runner.run_dir / "services.json").read_bytes())


@pytest.mark.parametrize("mode", ["sim", "process"])
def test_both_runtimes_deliver_the_reply_after_the_work_time(tmp_path: Path, mode: str) -> None:
    replies, record = slow_backend_round_trip(tmp_path, mode)
    assert 0 < replies[0][0] < replies[1][0]  # two executions, two receipts
    for _, elapsed in replies:
        assert elapsed >= 0.3  # 0.3 s of work plus the network's latency both ways
    if mode == "sim":
        assert replies[0][1] == pytest.approx(0.31, abs=1e-6)
    assert [c["outcome"] for c in record["backend"]["calls"]] == ["executed", "executed"]
