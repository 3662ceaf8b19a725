"""Behaviours distlab shares with Maelstrom, each checked against a node that relies on it
or a node Maelstrom's behaviour catches (issue 10: forwarding as a client, kafka's
committed offsets, seq-kv's past states, concurrent final reads, g-set duplicates,
partitions that catch a broadcast without retries)."""

from __future__ import annotations

from typing import Any

from tests.conftest import NODES

FORWARD_RAW = str(NODES / "raw" / "forward_leader.py")


def test_a_raw_node_may_forward_a_client_request_with_the_clients_src(simulate: Any) -> None:
    result = simulate(FORWARD_RAW, mode="process", workload="echo", node_count=3, time_limit=3, rate=30)
    r = result.results
    assert result.valid is True, r["workload"]
    assert r["availability"]["ok_fraction"] == 1.0
    assert r["node_errors"] == []
    for follower in ("n1", "n2"):  # noted once per node, not per message
        log = (result.run_dir / "node-logs" / f"{follower}.log").read_text()
        assert log.count("another sender's src") == 1
    assert "another sender's src" not in (result.run_dir / "node-logs" / "n0.log").read_text()
    kv = simulate(FORWARD_RAW, mode="process", workload="lin-kv", node_count=3, time_limit=3, rate=30)
    assert kv.valid is True, kv.results["workload"]
    assert kv.results["stats"]["info"] == 0  # every forwarded request was answered


def test_a_simulated_node_may_forward_as_the_client_too(simulate: Any) -> None:
    for workload in ("echo", "lin-kv"):
        result = simulate("forward_leader", workload=workload, node_count=3, time_limit=10, rate=50)
        assert result.valid is True, result.results["workload"]
        assert result.results["stats"]["info"] == 0
    assert result.results["stats"]["ok"] > 0
    log = (result.run_dir / "node-logs" / "n2.log").read_text()
    assert log.count("another sender's src") == 1
    assert simulate("forward_leader", node_count=3, time_limit=5).results["availability"]["ok_fraction"] == 1.0


def test_a_src_that_names_nobody_is_still_a_protocol_error(simulate: Any) -> None:
    result = simulate("forward_leader", bin_args=["as-nobody"], node_count=2, time_limit=3, op_timeout=1.0)
    assert any("as 'x9', which is no node, client or service" in str(e) for e in result.results["node_errors"])
    assert result.results["stats"]["ok"] < result.results["stats"]["count"]  # n1's clients never hear back
