"""report.html: rows that carry information only, verdict-deciding text whole, all of it
escaped (explanations and node errors quote node output)."""

from __future__ import annotations

from pathlib import Path

from distlab.report.page import LIST_LIMIT, cell, informative, write_page
from distlab.report.rundir import RunDir


def test_figures_that_say_nothing_are_left_out() -> None:
    assert not any(informative(v) for v in (0, 0.0, [], {}, None, ""))
    assert all(informative(v) for v in (1, 0.5, [0], {"a": 0}, "x", False, True))


def test_cells_read_at_a_glance() -> None:
    assert cell({"0.0": 0, "0.5": 1.5, "0.99": 10, "1.0": 12345.6}) == "min 0 · p50 1.5 · p99 10 · max 12,346"
    assert cell({"read": {"count": 3, "ok": 3, "fail": 0, "valid": True}, "cas": {"count": 1, "valid": False}}) == \
        "read: count 3, ok 3 · cas: count 1, valid false"
    long = list(range(LIST_LIMIT + 5))
    assert cell(long).endswith(", 59 … and 5 more (all in results.json)")
    assert cell([1, 2]) == "1, 2" and cell(1234567) == "1,234,567" and cell(None) == "—"


def test_page_shows_the_explanation_whole_and_escaped(tmp_path: Path) -> None:
    explanation = "NOT linearizable\n" + "\n".join(f"step {i}: read -> <{i}>" for i in range(200))
    results = {
        "valid": False, "seed": 3, "mode": "sim", "sim_seconds": 12.5,
        "workload": {"valid": False, "explanation": explanation, "lost_count": 2, "lost": [7, 9], "stale_count": 0},
        "stats": {"valid": True, "count": 10, "fail": 0},
        "net": {"all_msgs": 40, "dropped": 0},
        "node_errors": [{"node": "n1", "message": "n1: handler 'read' raised <KeyError>"}],
    }
    (tmp_path / "node-logs").mkdir()
    run = RunDir(tmp_path, {"workload": "lin-kv", "seed": 3}, results, [], None, [tmp_path / "node-logs" / "n1.log"])
    page = write_page(run, [tmp_path / "rate.png"], None).read_text()
    assert "step 199: read -&gt; &lt;199&gt;" in page  # whole, escaped
    assert "<th>lost_count</th>" in page and "<th>stale_count</th>" not in page and "<th>fail</th>" not in page
    assert "<th>lost</th><td class=\"num\">7, 9</td>" in page
    assert "handler &#39;read&#39; raised &lt;KeyError&gt;" in page and 'href="node-logs/n1.log"' in page
    assert 'src="rate.png"' in page and "wrote no messages.jsonl" in page
    assert 'class="verdict invalid">INVALID' in page and "distlab replay" in page
