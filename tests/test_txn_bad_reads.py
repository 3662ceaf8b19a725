"""A list-append read that is not a list is a wrong answer, never a checker crash: the
history is invalid (mismatched-completion) and the reason names the read."""

from __future__ import annotations

from pathlib import Path

from distlab.checkers import txn
from distlab.tracks.explain import reasons
from tests.test_cli import distlab, latest, results

NODE = '''
from distlab import Node

node = Node()


@node.on("txn")
def txn(msg):
    return {"type": "txn_ok", "txn": [[f, k, 5 if f == "r" else v] for f, k, v in msg.body["txn"]]}


if __name__ == "__main__":
    node.run()
'''


def test_a_scalar_read_is_named_not_a_crash() -> None:
    h = [{"index": 0, "time": 0, "process": 0, "type": "invoke", "f": "txn", "value": [["append", 1, 1], ["r", 2, None]]},
         {"index": 1, "time": 1, "process": 0, "type": "ok", "f": "txn", "value": [["append", 1, 1], ["r", 2, 5]]}]
    r = txn.check(h, workload="list-append")
    assert r["valid"] is False and r["anomaly_types"] == ["mismatched-completion"]
    assert "index 1 read 5 of key 2: a list-append read must return a list" in r["anomalies"]["mismatched-completion"][0]["text"]


def test_a_register_style_node_on_list_append_gets_a_verdict(tmp_path: Path) -> None:
    (tmp_path / "node.py").write_text(NODE)
    proc = distlab("test", "-w", "txn-list-append", "--bin", str(tmp_path / "node.py"), "--node-count", "1",
                   "--time-limit", "2", "--rate", "20", "-q", "--no-report", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "error:" not in proc.stderr
    assert any("mismatched-completion" in line for line in reasons(results(latest(tmp_path))))
