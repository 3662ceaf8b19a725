"""The operations timeline: one bar per client operation, coloured by its outcome, and a
band per fault, counted independently from the history a real simulated run wrote."""

from __future__ import annotations

import re
from pathlib import Path

from distlab.history import read_jsonl
from distlab.report import timeline
from distlab.report.timeline import timeline_html
from tests.conftest import node_path
from tests.test_cli import distlab, latest


def test_every_operation_and_fault_of_a_run_is_drawn(tmp_path: Path) -> None:
    proc = distlab("test", "-w", "broadcast", "--bin", node_path("broadcast_once"), "--node-count", "3",
                   "--time-limit", "4", "--rate", "20", "--nemesis", "partition", "--nemesis-interval", "1",
                   "-q", "--seed", "4", cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    history = read_jsonl(latest(tmp_path) / "history.jsonl")
    page = timeline_html(history)
    invokes = [r for r in history if r["type"] == "invoke" and r["process"] != "nemesis"]
    outcomes = {r["type"] for r in history if r["process"] != "nemesis" and r["type"] != "invoke"}
    bars = re.findall(r'class="op (\w+)"', page)
    assert len(bars) == len(invokes) and set(bars) <= outcomes | {"info"}
    faults = [r for r in history if r["process"] == "nemesis" and r["type"] == "invoke"
              and r["f"] == "start-partition"]
    assert faults and page.count('class="nemesis"') == len(faults)


def test_a_huge_history_is_capped_and_says_so(monkeypatch: object) -> None:
    history = []
    for i in range(30):
        history += [{"index": 2 * i, "time": i * 10**6, "process": i % 3, "type": "invoke", "f": "read", "value": None},
                    {"index": 2 * i + 1, "time": i * 10**6 + 5, "process": i % 3, "type": "ok", "f": "read",
                     "value": "<b>"}]
    monkeypatch.setattr(timeline, "MAX_OPS", 10)  # type: ignore[attr-defined]
    page = timeline.timeline_html(history)
    assert page.count('class="op ok"') == 10 and "The first 10 of 30 operations" in page
    assert "<b>" not in page  # values are escaped


def test_an_operation_that_never_completed_runs_to_the_end() -> None:
    page = timeline_html([{"index": 0, "time": 0, "process": 0, "type": "invoke", "f": "cas", "value": [1, 2]},
                          {"index": 1, "time": 2 * 10**9, "process": 1, "type": "invoke", "f": "read", "value": None},
                          {"index": 2, "time": 2 * 10**9 + 1, "process": 1, "type": "ok", "f": "read", "value": 1}])
    assert 'class="op info"' in page and "no reply" in page
    height = float(re.search(r'class="op info"[^>]*height:([\d.]+)px', page).group(1))
    assert height >= 2 * timeline.PX_PER_SECOND - 1
