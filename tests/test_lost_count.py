"""results.json counts what the network's loss swallowed (`net.lost`) apart from what
partitions and down nodes dropped (`net.dropped`): a run at 30% loss must not read
"dropped 0". Counted independently from messages.jsonl: a send with no recv or drop line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from distlab.examples import example_path
from distlab.options import TestOptions
from distlab.runner import run_test


def _never_arrived(trace: Path) -> int:
    sent, seen = set(), set()
    for line in trace.read_text().splitlines():
        ev = json.loads(line)
        (sent if ev["ev"] == "send" else seen).add(ev["id"])
    return len(sent - seen)


@pytest.mark.parametrize("loss", [0.0, 0.3])
def test_lost_messages_are_counted(tmp_path: Path, loss: float) -> None:
    result = run_test(TestOptions(workload="broadcast", bin=str(example_path("broadcast")), node_count=3,
                                  time_limit=3.0, rate=20.0, loss=loss, seed=2, store=str(tmp_path)))
    net = result.results["net"]
    assert net["lost"] == _never_arrived(result.run_dir / "messages.jsonl")
    assert (net["lost"] > 0) == (loss > 0)
