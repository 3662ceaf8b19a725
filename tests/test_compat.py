"""Compatibility: Maelstrom command lines verbatim, and a node in another language."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.conftest import node_path

ROOT = Path(__file__).resolve().parents[1]
JS_NODE = ROOT / "examples" / "js" / "node.js"

# Gossip Glomers' published command lines (spec/PROTOCOL.md), with the reference nodes.
GLOMERS = [
    ("echo", "-w echo --node-count 1 --time-limit 10"),
    ("unique-ids", "-w unique-ids --time-limit 30 --rate 1000 --node-count 3 --availability total --nemesis partition"),
    ("broadcast", "-w broadcast --node-count 1 --time-limit 20 --rate 10"),
    ("broadcast", "-w broadcast --node-count 5 --time-limit 20 --rate 10"),
    ("broadcast", "-w broadcast --node-count 5 --time-limit 20 --rate 10 --nemesis partition"),
    ("broadcast", "-w broadcast --node-count 25 --time-limit 20 --rate 100 --latency 100"),
    ("g_counter", "-w g-counter --node-count 3 --rate 100 --time-limit 20 --nemesis partition"),
    ("kafka", "-w kafka --node-count 1 --concurrency 2n --time-limit 20 --rate 1000"),
    ("kafka", "-w kafka --node-count 2 --concurrency 2n --time-limit 20 --rate 1000"),
    ("txn_rw", "-w txn-rw-register --node-count 1 --concurrency 2n --time-limit 20 --rate 1000 "
               "--consistency-models read-uncommitted"),
    ("txn_rw", "-w txn-rw-register --node-count 2 --concurrency 2n --time-limit 20 --rate 1000 "
               "--consistency-models read-uncommitted --availability total --nemesis partition"),
    ("txn_rw", "-w txn-rw-register --node-count 2 --concurrency 2n --time-limit 20 --rate 1000 "
               "--consistency-models read-committed --availability total --nemesis partition"),
]


def distlab_test(args: str, bin_path: str, cwd: Path, timeout: float = 120) -> dict:
    argv = [sys.executable, "-m", "distlab", "test", *shlex.split(args), "--bin", bin_path, "--seed", "3"]
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return orjson.loads((cwd / "store" / "latest" / "results.json").read_bytes())


@pytest.mark.parametrize(("node", "args"), GLOMERS)
def test_gossip_glomers_command_lines_work_verbatim(tmp_path: Path, node: str, args: str) -> None:
    results = distlab_test(args, node_path(node), tmp_path)
    assert results["valid"] is True
    assert results["mode"] == "sim"


needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed on this machine")


@needs_node
@pytest.mark.parametrize(
    "args",
    [
        "-w echo --node-count 1 --time-limit 3",
        "-w unique-ids --time-limit 3 --rate 300 --node-count 3 --availability total --nemesis partition --nemesis-interval 1",
        "-w broadcast --node-count 5 --time-limit 3 --rate 10 --nemesis partition --nemesis-interval 1",
    ],
)
def test_a_javascript_node_passes_as_a_real_process(tmp_path: Path, args: str) -> None:
    results = distlab_test(args, str(JS_NODE), tmp_path)
    assert results["valid"] is True
    assert results["mode"] == "process"
    assert results["stats"]["ok"] > 0
