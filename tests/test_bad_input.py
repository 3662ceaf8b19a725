"""Every `distlab` command, given bad input, says what was wrong in one line: never a traceback.

Exit status 2 for input that could not be used, 1 where a run happened and was
invalid. Each case runs the real command in a subprocess, as a user would.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import NODES

ECHO_BAD = str(NODES / "echo_typeerror.py")


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of bad inputs: broken node files, broken histories, broken run directories."""
    d = tmp_path_factory.mktemp("bad")
    (d / "syntax.py").write_text("from distlab import Node\nnode = Node(\ndef x(:\n")
    (d / "raises.py").write_text("from distlab import Node\nnode = Node()\nraise KeyError('boom')\n")
    (d / "plain.txt").write_text("not a program\n")
    (d / "afile").write_text("x\n")
    (d / "malformed.jsonl").write_text('{"index": 0, "type": "invoke"\n')
    (d / "malformed.edn").write_text("{:type :invoke, :f :txn, :value [[:append 1 ")
    runs = {
        "notrun": ("{bad json", '{"trace_hash": "ab"}'),
        "listrun": ("[1, 2]", '{"trace_hash": "ab"}'),
        "keyrun": ('{"bogus": 1, "mode": "sim"}', '{"trace_hash": "ab"}'),
        "binrun": ('{"workload": "echo", "bin": "/nonexistent/node.py", "mode": "sim", "seed": 1}', '{"trace_hash": "ab"}'),
    }
    for name, (config, results) in runs.items():
        (d / name).mkdir()
        (d / name / "config.json").write_text(config)
        (d / name / "results.json").write_text(results)
    return d


CASES = [
    # distlab test
    (["test", "-w", "echo", "--bin", "missing.py"], 2, "--bin missing.py: no such file"),
    (["test", "-w", "echo", "--bin", "{bad}"], 2, "is a directory"),
    (["test", "-w", "echo", "--bin", "{bad}/syntax.py"], 2, "syntax.py: syntax error on line 3"),
    (["test", "-w", "echo", "--bin", "{bad}/raises.py", "--time-limit", "1"], 2, "loading raises.py failed: KeyError: 'boom'"),
    (["test", "-w", "nope", "--bin", ECHO_BAD], 2, "Invalid value for '-w'"),
    (["test", "-w", "topology", "--bin", ECHO_BAD], 2, "'topology' is not one of"),
    (["test", "-w", "echo", "--bin", ECHO_BAD, "--rate", "fast"], 2, "Invalid value for '--rate'"),
    (["test", "-w", "echo", "--bin", ECHO_BAD, "--latency-dist", "pareto"], 2, "Invalid value for '--latency-dist'"),
    (["test", "-w", "echo", "--bin", ECHO_BAD, "--bogus"], 2, "No such option '--bogus'"),
    (["test", "-w", "echo", "--bin", ECHO_BAD, "--store", "{bad}/afile", "--time-limit", "1"], 2, "Not a directory"),
    (["test", "-w", "echo", "--bin", "{bad}/plain.txt", "--mode", "process"], 2, "plain.txt: not executable"),
    (["test", "-w", "broadcast", "--bin", str(NODES / "broadcast_no_topology.py"), "--node-count", "2",
      "--time-limit", "1"], 2, "node n0 has no handler for 'topology' (error 10, not supported)"),
    (["test", "-w", "echo", "--bin", ECHO_BAD, "--node-count", "1", "--time-limit", "2", "--seed", "1"], 1, None),
    # distlab replay
    (["replay", "{bad}/missing"], 2, "does not exist"),
    (["replay", "{bad}/afile"], 2, "is a file"),
    (["replay", "{bad}/notrun"], 2, "is not a complete run directory"),
    (["replay", "{bad}/listrun"], 2, "config.json holds no options object"),
    (["replay", "{bad}/keyrun"], 2, "unexpected keyword argument 'bogus'"),
    (["replay", "{bad}/binrun"], 2, "--bin /nonexistent/node.py: no such file"),
    # distlab demo
    (["demo", "--seed", "x"], 2, "Invalid value for '--seed'"),
    (["demo", "--store", "{bad}/afile"], 2, "Not a directory"),
    # distlab analyze
    (["analyze", "linearizable", "{bad}/missing.jsonl"], 2, "missing.jsonl"),
    (["analyze", "linearizable", "{bad}"], 2, "is not a run directory"),
    (["analyze", "linearizable", "{bad}/malformed.jsonl"], 2, "malformed.jsonl:1: not JSON"),
    (["analyze", "linearizable", "--model", "nope", "{bad}/malformed.jsonl"], 2, "unknown model 'nope'"),
    (["analyze", "workload", "-w", "nope", "{bad}/malformed.jsonl"], 2, "unknown workload 'nope'"),
    (["analyze", "workload", "{bad}/notrun"], 2, "is not a run directory"),
    (["analyze", "txn", "--workload", "list-append", "{bad}/malformed.edn"], 2, "malformed.edn"),
    (["analyze", "raft", "{bad}/missing"], 2, "not a run directory"),
    (["analyze", "bogus"], 2, "No such command 'bogus'"),
    # distlab raft-test
    (["raft-test", "{bad}/missing.py:make"], 2, "no such file"),
    (["raft-test", "{bad}/syntax.py:make"], 2, "SyntaxError"),
    (["raft-test", "{bad}/raises.py:make"], 2, "KeyError: 'boom'"),
    (["raft-test", "-s", "zzz_nothing"], 2, "no scenario matches 'zzz_nothing'"),
    (["raft-test", "--seeds", "0"], 2, "Invalid value for '--seeds'"),
    # distlab kv-lab
    (["kv-lab", "--bin", "{bad}/missing.py"], 2, "no such file"),
    (["kv-lab", "--bin", "{bad}"], 2, "is a directory"),
    (["kv-lab", "--bin", "{bad}/syntax.py", "-s", "3a_basic"], 2, "syntax error on line 3"),
    (["kv-lab", "--bin", "{bad}/raises.py", "-s", "3a_basic"], 1, None),  # the scenario ran and failed
    (["kv-lab", "--bin", ECHO_BAD, "-s", "zzz"], 2, "no scenario matches 'zzz'"),
    (["kv-lab", "--bin", ECHO_BAD, "--max-state-bytes", "0"], 2, "Invalid value for '--max-state-bytes'"),
]


@pytest.mark.parametrize(("args", "code", "message"), CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_bad_input_gets_one_line_and_no_traceback(bad: Path, args: list[str], code: int, message: str | None) -> None:
    argv = [a.replace("{bad}", str(bad)) for a in args]
    proc = subprocess.run([sys.executable, "-m", "distlab", *argv], cwd=bad, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert proc.returncode == code, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    if code == 2:
        assert len(lines) == 1, proc.stderr
        assert lines[0].startswith("error: ")
        assert message in lines[0]
    else:  # a run happened and was invalid: the verdict is on stdout, at most one line on stderr
        assert len(lines) <= 1, proc.stderr
