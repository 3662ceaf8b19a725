"""A node file that never calls node.run() exits at once as a real process (and under
Maelstrom): the simulator, which drives nodes itself, must not pass it."""

from __future__ import annotations

from pathlib import Path

import pytest

from distlab.options import TestOptions
from distlab.runner import run_test

ECHO = ('from distlab import Node\nnode = Node()\n\n\n@node.on("echo")\ndef echo(msg):\n'
        '    return {"type": "echo_ok", "echo": msg.body["echo"]}\n')


def _run(tmp_path: Path, source: str, mode: str) -> dict:
    path = tmp_path / "echo_node.py"
    path.write_text(source)
    opts = TestOptions(workload="echo", bin=str(path), node_count=1, time_limit=2.0, rate=5.0,
                       seed=1, store=str(tmp_path / "store"), mode=mode)
    return run_test(opts).results


def test_a_file_without_run_is_refused_in_one_line(tmp_path: Path) -> None:
    error = _run(tmp_path, ECHO, "sim").get("error") or ""
    assert "never calls node.run()" in error and 'if __name__ == "__main__": node.run()' in error
    assert "\n" not in error


@pytest.mark.parametrize("tail", ['\nif __name__ == "__main__":\n    node.run()\n', "\nnode.run()\n"])
def test_a_file_that_runs_passes(tmp_path: Path, tail: str) -> None:
    results = _run(tmp_path, ECHO + tail, "sim")
    assert results.get("error") is None and results["workload"]["valid"] is True


def test_as_a_process_the_same_file_serves_nothing(tmp_path: Path) -> None:
    # what the simulator's refusal stands for: the process exits before answering
    results = _run(tmp_path, ECHO, "process")
    assert results.get("error") or results["stats"]["ok"] == 0
