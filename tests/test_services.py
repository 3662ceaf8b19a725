"""lin-kv, seq-kv, lww-kv, lin-tso: their semantics, their weaknesses, reached from real nodes."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from distlab.protocol import KEY_DOES_NOT_EXIST, PRECONDITION_FAILED
from distlab.runner import Runner
from distlab.services import LinKV, LinTSO, LwwKV, SeqKV
from tests.test_sim import ask, drive, make_runner, write_node


def req(service: Any, src: str, now: float = 0.0, **body: Any) -> dict[str, Any]:
    return service.reply(src, {"msg_id": 1, **body}, now)


@pytest.mark.parametrize("cls", [LinKV, SeqKV, LwwKV])
def test_kv_api_and_errors(cls: Any) -> None:
    kv = cls(random.Random(1))
    assert req(kv, "n0", type="read", key="k")["code"] == KEY_DOES_NOT_EXIST
    assert req(kv, "n0", type="cas", key="k", **{"from": 1, "to": 2})["code"] == KEY_DOES_NOT_EXIST
    assert req(kv, "n0", type="cas", key="k", create_if_not_exists=True, **{"from": 1, "to": 2})["type"] == "cas_ok"
    if cls is not LwwKV:  # lww-kv may answer from a replica that has not seen the write yet
        assert req(kv, "n0", type="read", key="k") == {"type": "read_ok", "value": 2, "in_reply_to": 1}
        assert req(kv, "n0", type="cas", key="k", **{"from": 1, "to": 3})["code"] == PRECONDITION_FAILED
    assert req(kv, "n0", type="write", key="k", value=[1, 2])["type"] == "write_ok"
    assert req(kv, "n0", type="frobnicate", key="k")["code"] == 10
    assert req(kv, "n0", type="write", key="k")["code"] == 12  # no value: malformed


def test_lin_kv_reads_the_latest_write_from_anyone() -> None:
    kv = LinKV(random.Random(1))
    for i in range(100):
        req(kv, "n0", type="write", key="x", value=i)
        assert req(kv, "n1", type="read", key="x")["value"] == i


def test_seq_kv_reads_are_stale_for_others_but_never_go_back() -> None:
    kv = SeqKV(random.Random(3))
    stale = 0
    last = -1
    for i in range(200):
        req(kv, "n0", type="write", key="x", value=i)
        assert req(kv, "n0", type="read", key="x")["value"] == i  # a node sees its own writes
        seen = req(kv, "n1", type="read", key="x").get("value", -1)
        assert seen >= last  # never older than what n1 saw before
        last = seen
        stale += seen < i
    assert stale > 20


def test_lww_kv_loses_concurrent_cas_and_serves_stale_reads() -> None:
    kv = LwwKV(random.Random(5), merge_every=1.0)
    req(kv, "n0", now=0.0, type="write", key="c", value=0)
    both_won = stale = 0
    for t in range(1, 200):
        now = float(t)  # a merge before each round
        current = req(kv, "n0", now=now, type="read", key="c").get("value")
        a = req(kv, "n0", now=now + 0.1, type="cas", key="c", **{"from": current, "to": current + 1})
        b = req(kv, "n1", now=now + 0.2, type="cas", key="c", **{"from": current, "to": current + 1})
        both_won += a["type"] == b["type"] == "cas_ok"
        stale += req(kv, "n2", now=now + 0.3, type="read", key="c").get("value") != current + 1
    assert both_won > 10  # two increments applied as one: a lost update
    assert stale > 10


def test_lin_tso_is_strictly_increasing_from_zero() -> None:
    tso = LinTSO(random.Random(0))
    assert [req(tso, f"n{i % 3}", type="ts")["ts"] for i in range(5)] == [0, 1, 2, 3, 4]


KV_NODE = """
@node.on("put")
async def put(msg):
    await node.rpc(msg.body["svc"], {"type": "write", "key": "x", "value": msg.body["value"]})
    return {"type": "put_ok"}

@node.on("get")
async def get(msg):
    try:
        reply = await node.rpc(msg.body["svc"], {"type": "read", "key": "x"})
        return {"type": "get_ok", "value": reply.body["value"]}
    except Exception as exc:
        return {"type": "get_ok", "value": None, "error": str(exc)}

@node.on("ts")
async def ts(msg):
    reply = await node.rpc("lin-tso", {"type": "ts"})
    return {"type": "ts_ok", "ts": reply.body["ts"]}
"""


def stale_reads(tmp_path: Path, svc: str, mode: str = "sim") -> int:
    runner = make_runner(tmp_path, write_node(tmp_path, KV_NODE), node_count=2, latency=5, seed=9)

    async def script(r: Runner) -> int:
        stale = 0
        for i in range(30):
            await ask(r, "n0", {"type": "put", "svc": svc, "value": i})
            stale += (await ask(r, "n1", {"type": "get", "svc": svc}))["value"] != i
        return stale

    return drive(runner, script)


def test_nodes_reach_services_over_the_network_and_seq_kv_is_really_weaker(tmp_path: Path) -> None:
    assert stale_reads(tmp_path, "lin-kv") == 0
    assert stale_reads(tmp_path, "seq-kv") > 5
    assert stale_reads(tmp_path, "seq-kv") == stale_reads(tmp_path, "seq-kv")  # reproducible by seed


def test_services_work_for_real_processes(tmp_path: Path, simulate: Any) -> None:
    path = write_node(tmp_path, KV_NODE.replace('msg.body["svc"]', '"lin-kv"') + """
@node.on("echo")
async def echo(msg):
    await node.rpc("lin-kv", {"type": "write", "key": msg.body["echo"], "value": msg.body["echo"]})
    reply = await node.rpc("lin-kv", {"type": "read", "key": msg.body["echo"]})
    return {"type": "echo_ok", "echo": reply.body["value"]}
""")
    result = simulate(path, mode="process", node_count=2, time_limit=2, rate=20)
    stats = result.results["stats"]
    assert result.valid is True, result.results  # every echo came back through lin-kv
    assert stats["ok"] == stats["count"] > 20
    assert result.results["net"]["server_msgs"] == 4 * stats["ok"]
