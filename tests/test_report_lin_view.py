"""linearizability.html comes with an invalid linearizability run (a proxy over lww-kv)
and marks the operation that could not be linearized; a valid run gets none."""

from __future__ import annotations

import re
from pathlib import Path

import orjson

from distlab.history import read_jsonl
from distlab.report.lin_view import write_lin_view
from tests.conftest import node_path
from tests.test_cli import distlab, latest


def _run(tmp_path: Path, service: str) -> Path:
    proc = distlab("test", "-w", "lin-kv", "--bin", node_path("lin-kv-proxy"), "--node-count", "3",
                   "--time-limit", "10", "--rate", "50", "-q", "--seed", "1", "--", service, cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    return latest(tmp_path)


def test_a_stale_proxy_gets_the_failure_view_naming_the_culprit(tmp_path: Path) -> None:
    run = _run(tmp_path, "lww-kv")
    results = orjson.loads((run / "results.json").read_bytes())
    assert results["valid"] is False
    out = write_lin_view(run, read_jsonl(run / "history.jsonl"), results["valid"])
    assert out == run / "linearizability.html"
    page = out.read_text()
    culprit = next(ln for ln in results["workload"]["explanation"].splitlines() if ln.startswith("cannot linearize"))
    called, returned = re.search(r"called at record (\d+), returned at record (\d+)", culprit).groups()
    marked = re.findall(r'class="op failed"[^>]*title="([^"]*)"', page)
    assert len(marked) == 1 and f"records {called}..{returned}" in marked[0] and "cannot be linearized" in marked[0]


def test_a_linearizable_run_gets_no_view(tmp_path: Path) -> None:
    run = _run(tmp_path, "lin-kv")
    assert write_lin_view(run, read_jsonl(run / "history.jsonl"), True) is None
    assert not (run / "linearizability.html").exists()
