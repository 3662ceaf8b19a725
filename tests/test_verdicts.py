"""Known-bad nodes must never look clean: stats, node errors and the verdict, in both runtimes.

Each bad node in tests/nodes is caught with the line a learner sees; good nodes
stay VALID with no node-error rows.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console

from distlab.cli import print_summary
from distlab.report.node_errors import NodeEvents, node_error_list, summary_rows
from distlab.runner import RunResult
from tests.conftest import NODES


def summary_text(result: RunResult) -> str:
    """The summary table as printed, wide enough that no row wraps."""
    buf = io.StringIO()
    print_summary(result, Console(file=buf, width=400, color_system=None))
    return buf.getvalue()


def rows(result: RunResult, label: str) -> list[str]:
    return [line.split(label, 1)[1].strip() for line in summary_text(result).splitlines()
            if line.startswith(label)]


def only(entries: list[dict[str, Any]], **match: Any) -> list[dict[str, Any]]:
    return [e for e in entries if all(e.get(k) == v for k, v in match.items())]


# ----- the stats checker --------------------------------------------------------------
def test_echo_handler_raising_typeerror_is_invalid_by_stats(simulate: Any) -> None:
    result = simulate("echo_typeerror", node_count=2, time_limit=10)
    r = result.results
    n = r["stats"]["count"]
    assert n > 50 and r["stats"]["ok"] == 0
    assert result.valid is False and result.exit_code == 1
    assert r["workload"]["valid"] is True  # nothing wrong was echoed: only the stats checker sees it
    assert r["stats"]["valid"] is False
    assert r["stats"]["errors"] == [f"no 'echo' succeeded (0 ok of {n})"]
    assert r["stats"]["by_f"]["echo"]["valid"] is False
    assert rows(result, "stats") == [f"no 'echo' succeeded (0 ok of {n})"]


def test_a_good_node_passes_stats_and_has_no_node_errors(simulate: Any) -> None:
    result = simulate("echo", node_count=2)
    r = result.results
    assert result.valid is True
    assert r["stats"]["valid"] is True and r["stats"]["errors"] == []
    assert r["node_errors"] == []
    assert "verdict_note" not in r
    assert rows(result, "node error") == []
    assert rows(result, "stats") == ["ok  (each function succeeded at least once)"]


def test_availability_keeps_its_meaning_on_top_of_stats(simulate: Any) -> None:
    result = simulate("raises", time_limit=10, availability="0.9")  # every third echo raises
    assert result.results["stats"]["valid"] is True
    assert result.results["availability"]["valid"] is False
    assert result.valid is False


# ----- handler exceptions -------------------------------------------------------------
def test_handler_exceptions_are_counted_per_node_type_and_exception_with_their_line(simulate: Any) -> None:
    result = simulate("echo_typeerror", node_count=2, time_limit=10)
    errors = result.results["node_errors"]
    assert [e["node"] for e in errors] == ["n0", "n1"]
    for e in errors:
        assert e["kind"] == "handler" and e["type"] == "echo" and e["exception"] == "TypeError"
        assert e["where"] == "echo_typeerror.py:10"
        assert e["code"] == 'return {"type": "echo_ok", "echo": msg["body"]["echo"]}'
        assert e["text"] == "'Message' object is not subscriptable"
        assert e["first_at"] >= 0
    assert sum(e["count"] for e in errors) == result.results["stats"]["fail"]
    assert errors[0]["message"] == (
        f"n0: handler 'echo' raised TypeError: 'Message' object is not subscriptable — at echo_typeerror.py:10, "
        f"{errors[0]['count']} times (first at {errors[0]['first_at']:.3f} s)")
    total = sum(e["count"] for e in errors)
    assert rows(result, "node error") == [
        f"handler 'echo' raised TypeError: 'Message' object is not subscriptable — at echo_typeerror.py:10, "
        f"{total} times (on n0, n1; first at {errors[0]['first_at']:.3f} s on n0)"]
    assert result.results["verdict_note"].startswith(f"{total} client requests got error 13 because a handler raised")
    assert "INVALID  — " in summary_text(result)


def test_some_requests_raising_stays_valid_but_never_looks_clean(simulate: Any) -> None:
    result = simulate("raises", time_limit=10)
    r = result.results
    assert result.valid is True  # as in Jepsen: a crash error is an outcome, not an anomaly
    [entry] = r["node_errors"]
    assert (entry["kind"], entry["type"], entry["exception"], entry["where"]) == ("handler", "echo", "ValueError", "raises.py:14")
    assert entry["count"] == r["stats"]["fail"]
    assert entry["text"] == "request 3 is unlucky"
    assert r["verdict_note"] == f"{entry['count']} client requests got error 13 because a handler raised (n0 {entry['count']})"
    assert f"VALID  — but {r['verdict_note']}" in summary_text(result)
    log = (result.run_dir / "node-logs" / "n0.log").read_text()
    assert log.count("Traceback") == 1  # once per place; each repeat is one tagged line
    assert log.count('[distlab-sdk] {"event":"handler"') == entry["count"]


def test_gossip_handler_raising_keyerror_is_shown_next_to_the_lost_messages(simulate: Any) -> None:
    result = simulate("broadcast_gossip_keyerror", workload="broadcast", node_count=3, time_limit=10, rate=10)
    r = result.results
    assert result.valid is False and r["workload"]["lost_count"] > 0
    errors = only(r["node_errors"], kind="handler", type="gossip")
    assert {e["node"] for e in errors} == {"n0", "n1", "n2"}
    assert {(e["exception"], e["where"], e["text"]) for e in errors} == {
        ("KeyError", "broadcast_gossip_keyerror.py:30", "'messages'")}
    assert sum(e["count"] for e in errors) == r["net"]["server_msgs"]  # every gossip raised
    assert "verdict_note" not in r  # gossip is not a client request: no client request failed
    [row] = rows(result, "node error")
    assert row.startswith("handler 'gossip' raised KeyError: 'messages' — at broadcast_gossip_keyerror.py:30, ")


# ----- handlers that never reply ----------------------------------------------------------
def test_handler_returning_none_is_named_with_the_requests_that_timed_out(simulate: Any) -> None:
    result = simulate("echo_returns_none", time_limit=20, op_timeout=1.0)
    r = result.results
    n = r["stats"]["count"]
    assert result.valid is False and r["stats"]["errors"] == [f"no 'echo' succeeded (0 ok of {n})"]
    [entry] = r["node_errors"]
    assert entry["kind"] == "no-reply" and entry["type"] == "echo" and entry["timed_out"] == n
    assert entry["message"] == (f"n0: handler 'echo' returned None and sent no reply: {n} requests timed out"
                                f" (first at {entry['first_at']:.3f} s)")
    assert rows(result, "node error") == [entry["message"]]
    assert r["verdict_note"] == f"{n} client requests timed out because a handler returned None (n0 {n})"


def test_replies_sent_with_node_reply_are_not_mistaken_for_silence(simulate: Any) -> None:
    result = simulate("echo_replies_later", node_count=2, time_limit=10)
    assert result.valid is True
    assert result.results["stats"]["ok"] == result.results["stats"]["count"] > 50
    assert result.results["node_errors"] == []


# ----- missing handlers ---------------------------------------------------------------------
def test_broadcast_without_topology_handler_stops_with_one_line(simulate: Any) -> None:
    result = simulate("broadcast_no_topology", workload="broadcast", node_count=2)
    assert result.exit_code == 2
    assert result.results["error"] == (
        "node n0 has no handler for 'topology' (error 10, not supported); the broadcast workload sends "
        "'topology' to every node before clients start, so the test cannot run")
    [entry] = result.results["node_errors"]
    assert (entry["node"], entry["kind"], entry["type"]) == ("n0", "not-supported", "topology")
    assert "Traceback" not in summary_text(result)


def test_a_workload_request_without_handler_is_named(simulate: Any, tmp_path: Any) -> None:
    node = tmp_path / "no_read.py"
    node.write_text((NODES / "broadcast_once.py").read_text().replace('@node.on("read")', "# no read handler"))
    result = simulate(str(node), workload="broadcast", node_count=2, time_limit=5)
    r = result.results
    assert result.valid is False
    assert any(e.startswith("no 'read' succeeded (0 ok of ") for e in r["stats"]["errors"])
    entries = only(r["node_errors"], kind="not-supported", type="read")
    assert {e["node"] for e in entries} == {"n0", "n1"}
    assert entries[0]["message"].startswith("n0: no handler for 'read': ")
    assert "answered error 10 (not supported)" in entries[0]["message"]


# ----- good nodes -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("node", "workload", "kw"),
    [
        ("broadcast", "broadcast", {"node_count": 3, "nemesis": ["partition"], "nemesis_interval": 2.0}),
        ("unique_ids", "unique-ids", {"node_count": 3, "nemesis": ["kill"], "nemesis_interval": 2.0}),
        ("broadcast_once", "broadcast", {"node_count": 3}),
    ],
)
def test_good_nodes_stay_valid_without_node_errors(simulate: Any, node: str, workload: str, kw: dict[str, Any]) -> None:
    result = simulate(node, workload=workload, time_limit=10, **kw)
    assert result.valid is True, result.results
    assert result.results["node_errors"] == []
    assert rows(result, "node error") == []


# ----- process mode ---------------------------------------------------------------------------
def test_process_mode_reads_the_same_records_from_stderr(simulate: Any) -> None:
    result = simulate("echo_typeerror", mode="process", node_count=2, time_limit=2.0, rate=20.0)
    r = result.results
    assert r["mode"] == "process" and result.valid is False
    assert r["stats"]["errors"] == [f"no 'echo' succeeded (0 ok of {r['stats']['count']})"]
    errors = r["node_errors"]
    assert {(e["node"], e["kind"], e["type"], e["exception"], e["where"]) for e in errors} == {
        (n, "handler", "echo", "TypeError", "echo_typeerror.py:10") for n in ("n0", "n1")}
    assert sum(e["count"] for e in errors) == r["stats"]["fail"]


def test_process_mode_silent_handler(simulate: Any) -> None:
    result = simulate("echo_returns_none", mode="process", time_limit=2.0, rate=20.0, op_timeout=0.5)
    [entry] = result.results["node_errors"]
    assert entry["kind"] == "no-reply" and entry["timed_out"] == result.results["stats"]["count"] > 0


def test_a_foreign_node_answering_error_13_is_counted_per_node_and_type(simulate: Any) -> None:
    result = simulate(str(NODES / "raw" / "crash_raw.py"), mode="process", node_count=2, time_limit=2.0, rate=20.0)
    r = result.results
    assert result.valid is True  # half the echoes succeed
    entries = r["node_errors"]
    assert {(e["node"], e["kind"], e["type"]) for e in entries} == {("n0", "crash-reply", "echo"), ("n1", "crash-reply", "echo")}
    assert sum(e["count"] for e in entries) == r["stats"]["fail"] > 0
    assert entries[0]["text"] == "IndexError: list index out of range"
    assert "got error 13 because a handler raised" in r["verdict_note"]


# ----- the tally on its own -------------------------------------------------------------------
def test_untagged_and_garbled_lines_are_not_counted() -> None:
    events = NodeEvents()
    assert events.feed("n0", 1.0, "hello [distlab-sdk]") is False
    assert events.feed("n0", 1.0, b"[distlab-sdk] {not json") is True
    assert events.unreadable == 1
    line = '[distlab-sdk] {"event":"handler","type":"echo","exception":"KeyError","where":"a.py:3","text":"x"}'
    events.feed("n1", 2.5, line + "\nhandler for 'echo' raised: KeyError: x")
    events.feed("n1", 3.0, line.encode())
    [entry] = node_error_list(events, set(), set())
    assert (entry["count"], entry["first_at"], entry["where"]) == (2, 2.5, "a.py:3")
    assert summary_rows([entry]) == [entry["message"]]
