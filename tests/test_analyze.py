"""`distlab analyze`: saved histories in, one line per file and a summary out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.conftest import node_path, shared_data

ETCD = shared_data("porcupine", "jepsen")
KV = shared_data("porcupine", "kv")


def analyze(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "distlab", "analyze", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_linearizable_one_line_per_file_and_a_summary(tmp_path: Path) -> None:
    files = [str(ETCD / "etcd_000.log"), str(ETCD / "etcd_002.log")]
    proc = analyze("linearizable", "--no-explain", "--html-dir", str(tmp_path), *files, cwd=tmp_path)
    assert proc.returncode == 1  # any invalid
    lines = proc.stdout.strip().splitlines()
    assert lines[0].startswith("INVALID") and "etcd_000.log" in lines[0] and "cannot linearize: read -> 2" in lines[0]
    assert lines[1].startswith("valid") and "etcd_002.log" in lines[1]
    assert lines[2].startswith("2 file(s): 1 valid, 1 invalid, 0 unknown, 0 unreadable")
    page = (tmp_path / "etcd_000-linearizability.html").read_text()
    assert "<html" in page and "read" in page


def test_linearizable_all_valid_exits_0_and_explains_nothing(tmp_path: Path) -> None:
    proc = analyze("linearizable", "--model", "kv", str(KV / "c01-ok.txt"), str(KV / "c10-ok.txt"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 valid, 0 invalid" in proc.stdout


def test_linearizable_explains_an_illegal_history(tmp_path: Path) -> None:
    proc = analyze("linearizable", "--html-dir", str(tmp_path), str(ETCD / "etcd_003.log"), cwd=tmp_path)
    assert "longest partial linearization before it" in proc.stdout
    assert "is not legal in state" in proc.stdout


def test_json_output(tmp_path: Path) -> None:
    proc = analyze("linearizable", "--json", "--html-dir", str(tmp_path), str(ETCD / "etcd_000.log"),
                   str(ETCD / "etcd_005.log"), cwd=tmp_path)
    doc = orjson.loads(proc.stdout)
    assert [f["valid"] for f in doc["files"]] == [False, True]
    assert doc["summary"]["invalid"] == 1 and doc["summary"]["valid"] == 1
    assert doc["files"][0]["ops"] == 65
    assert "cannot linearize" in doc["files"][0]["details"]["explanation"]


def test_a_budget_gives_unknown_and_exit_2(tmp_path: Path) -> None:
    proc = analyze("linearizable", "--model", "kv", "--budget", "0.001", str(KV / "c50-ok.txt"), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout.startswith("unknown")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"process": 0, "type": "invoke", "f": "read", "value": null}\n{not json\n', "bad.jsonl:2"),
        ("INFO  jepsen.util - 0\t:invoke\n", "bad.jsonl:1"),
    ],
)
def test_malformed_input_names_file_and_line(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content)
    proc = analyze("linearizable", str(bad), str(ETCD / "etcd_002.log"), cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "1 valid, 0 invalid, 0 unknown, 1 unreadable" in proc.stdout


def test_wrong_model_for_the_history_is_an_error_not_a_verdict(tmp_path: Path) -> None:
    proc = analyze("linearizable", "--model", "cas-register", str(KV / "c01-ok.txt"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "not a cas-register history" in proc.stderr


def test_unknown_model(tmp_path: Path) -> None:
    proc = analyze("linearizable", "--model", "btree", str(KV / "c01-ok.txt"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "btree" in proc.stderr


def test_workload_checker_on_a_run_directory_and_on_a_bare_history(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "distlab", "test", "-w", "unique-ids", "--bin",
                          node_path("unique_ids_buggy"), "no-node-id", "--node-count", "3", "--time-limit", "3",
                          "--seed", "1"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    run_dir = (tmp_path / "store" / "latest").resolve()
    by_dir = analyze("workload", str(run_dir), cwd=tmp_path)
    assert by_dir.returncode == 1
    assert by_dir.stdout.startswith("INVALID") and '"duplicated_count":' in by_dir.stdout
    by_file = analyze("workload", "-w", "unique-ids", "--json", str(run_dir / "history.jsonl"), cwd=tmp_path)
    assert by_file.returncode == 1
    assert orjson.loads(by_file.stdout)["files"][0]["details"]["duplicated"][0] == [1, 3]
    # a history inside the run directory: config.json beside it names the workload
    beside = analyze("workload", str(run_dir / "history.jsonl"), cwd=tmp_path)
    assert beside.returncode == 1 and beside.stdout.startswith("INVALID"), beside.stderr
    bare = tmp_path / "bare.jsonl"
    bare.write_bytes((run_dir / "history.jsonl").read_bytes())
    no_name = analyze("workload", str(bare), cwd=tmp_path)
    assert no_name.returncode == 2 and "say which workload" in no_name.stderr


def test_workload_checker_uses_the_runs_own_parameters(tmp_path: Path) -> None:
    """A txn run checked under read-committed keeps its verdict when analysed again:
    the checker is rebuilt from config.json's parameters, not from defaults."""
    def rec(i: int, p: int, t: str, v: list) -> dict:
        return {"index": i, "time": i, "process": p, "type": t, "f": "txn", "value": v}

    history = [rec(0, 0, "invoke", [["r", "x", None], ["append", "x", 1]]),
               rec(1, 1, "invoke", [["r", "x", None], ["append", "x", 2]]),
               rec(2, 0, "ok", [["r", "x", []], ["append", "x", 1]]),
               rec(3, 1, "ok", [["r", "x", []], ["append", "x", 2]]),
               rec(4, 0, "invoke", [["r", "x", None]]),
               rec(5, 0, "ok", [["r", "x", [1, 2]]])]  # a lost update: fine under read-committed
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "history.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in history))
    config = {"workload": "txn-list-append", "bin": "node.py", "consistency_models": ["read-committed"]}
    (run_dir / "config.json").write_bytes(orjson.dumps(config))
    own = analyze("workload", str(run_dir), cwd=tmp_path)
    assert own.returncode == 0 and own.stdout.startswith("valid"), own.stdout + own.stderr
    config["consistency_models"] = ["serializable"]
    (run_dir / "config.json").write_bytes(orjson.dumps(config))
    strict = analyze("workload", str(run_dir), cwd=tmp_path)
    assert strict.returncode == 1 and "lost-update" in strict.stdout, strict.stdout + strict.stderr
    # analyze txn, too, checks a run against the models the run was checked against
    config["consistency_models"] = ["read-committed"]
    (run_dir / "config.json").write_bytes(orjson.dumps(config))
    assert analyze("txn", str(run_dir), cwd=tmp_path).returncode == 0
    asked = analyze("txn", "--consistency-models", "serializable", str(run_dir), cwd=tmp_path)
    assert asked.returncode == 1 and "lost-update" in asked.stdout


ELLE = shared_data("elle")


def test_txn_reports_anomalies_and_the_models_they_rule_out(tmp_path: Path) -> None:
    proc = analyze("txn", "--consistency-models", "snapshot-isolation,repeatable-read",
                   str(ELLE / "si-without-g-single.edn"), cwd=tmp_path)
    assert proc.returncode == 1
    assert "G2-item; not repeatable-read" in proc.stdout
    assert "(rw)" in proc.stdout and "a contradiction" in proc.stdout


def test_txn_json_and_a_valid_history(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in [
        {"process": 0, "type": "invoke", "f": "txn", "value": [["append", 1, 1]]},
        {"process": 0, "type": "ok", "f": "txn", "value": [["append", 1, 1]]},
        {"process": 1, "type": "invoke", "f": "txn", "value": [["r", 1, None]]},
        {"process": 1, "type": "ok", "f": "txn", "value": [["r", 1, [1]]]},
    ]))
    proc = analyze("txn", "--json", "--consistency-models", "serializable", str(good), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = orjson.loads(proc.stdout)
    assert doc["files"][0]["valid"] is True and doc["files"][0]["ops"] == 2


def test_txn_on_a_history_that_is_not_transactions(tmp_path: Path) -> None:
    proc = analyze("txn", str(ETCD / "etcd_000.log"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "etcd_000.log" in proc.stderr


def one_line(text: str) -> str:
    """The stderr of a command that must say exactly one thing, without a traceback."""
    assert "Traceback" not in text, text
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def jsonl(path: Path, records: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


NOTHING = [
    ("empty.jsonl", b"", "empty history, nothing to check"),
    ("comments.edn", b"; nothing here\n\n", "empty history, nothing to check"),
    ("completions.jsonl", b'{"process": 0, "type": "ok", "f": "read", "value": 1}\n'
                          b'{"process": 1, "type": "ok", "f": "write", "value": 2}\n',
     "2 completion(s) and no invocation"),
    ("nemesis.jsonl", b'{"process": "nemesis", "type": "info", "f": "start", "value": null}\n',
     "no client operations, only 1 nemesis record(s)"),
]


@pytest.mark.parametrize(("command", "options"), [
    ("linearizable", []), ("txn", []), ("workload", ["-w", "unique-ids"]),
])
@pytest.mark.parametrize(("name", "content", "message"), NOTHING)
def test_a_history_with_nothing_to_check_is_an_error(
        tmp_path: Path, command: str, options: list[str], name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    proc = analyze(command, *options, str(path), cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert one_line(proc.stderr).startswith(f"error: {path}: {message}")
    assert "0 valid, 0 invalid, 0 unknown, 1 unreadable" in proc.stdout
    as_json = analyze(command, *options, "--json", str(path), cwd=tmp_path)
    assert as_json.returncode == 2
    assert orjson.loads(as_json.stdout)["files"][0]["valid"] == "error"


@pytest.fixture(scope="module")
def lin_kv_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real lin-kv run directory (simulated, fixed seed): its history uses [key, value] pairs."""
    cwd = tmp_path_factory.mktemp("lin-kv")
    run = subprocess.run([sys.executable, "-m", "distlab", "test", "-w", "lin-kv", "--bin",
                          node_path("lin_kv_proxy"), "--node-count", "2", "--time-limit", "5",
                          "--rate", "40", "--seed", "3"], cwd=cwd, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return (cwd / "store" / "latest").resolve()


def test_linearizable_offers_the_lin_kv_model(tmp_path: Path) -> None:
    from distlab.analyze import MODEL_NAMES
    from distlab.checkers.linearizable import MODELS

    assert set(MODEL_NAMES) == set(MODELS)
    proc = analyze("linearizable", "--help", cwd=tmp_path)
    assert all(name in proc.stdout for name in MODELS)
    assert "keyed-cas-register" in proc.stdout


def test_a_lin_kv_run_is_checked_with_its_own_model(lin_kv_run: Path, tmp_path: Path) -> None:
    results = orjson.loads((lin_kv_run / "results.json").read_bytes())["workload"]
    assert results["valid"] is True and results["ops"] > 20
    history = lin_kv_run / "history.jsonl"
    for args in ([str(lin_kv_run)], [str(history)], ["--model", "keyed-cas-register", str(lin_kv_run)]):
        proc = analyze("linearizable", "--json", *args, cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert proc.stderr == ""  # the run's own model: nothing to warn about
        doc = orjson.loads(proc.stdout)["files"][0]
        assert doc["valid"] is True and doc["ops"] == results["ops"]
        assert doc["details"]["partitions"] == results["keys"]
    # The same history away from its run: the model must be named.
    bare = tmp_path / "bare.jsonl"
    bare.write_bytes(history.read_bytes())
    proc = analyze("linearizable", "--model", "keyed-cas-register", str(bare), cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == ""


@pytest.mark.parametrize("as_file", [False, True])
def test_another_model_than_the_runs_is_warned_about(lin_kv_run: Path, tmp_path: Path,
                                                     as_file: bool) -> None:
    target = lin_kv_run / "history.jsonl" if as_file else lin_kv_run
    proc = analyze("linearizable", "--no-explain", "--html-dir", str(tmp_path), "--model",
                   "cas-register", str(target), cwd=tmp_path)
    assert one_line(proc.stderr) == (
        f"warning: {target} is a lin-kv run, checked with --model keyed-cas-register; "
        "checking it with --model cas-register")
    assert proc.returncode in (0, 1) and "1 file(s)" in proc.stdout  # a verdict, under the wrong model


def test_txn_and_workload_warn_about_another_checker(lin_kv_run: Path, tmp_path: Path) -> None:
    txn = analyze("txn", str(lin_kv_run), cwd=tmp_path)
    lines = txn.stderr.strip().splitlines()
    assert lines[0] == (f"warning: {lin_kv_run} is a lin-kv run, which this checker does not check; "
                        "checking it with --workload list-append")
    assert txn.returncode == 2 and "no list-append transactions" in lines[1]
    assert "Traceback" not in txn.stderr and len(lines) == 2
    wl = analyze("workload", "-w", "echo", str(lin_kv_run), cwd=tmp_path)
    assert wl.stderr.strip().splitlines()[0] == (
        f"warning: {lin_kv_run} is a lin-kv run, checked with -w lin-kv; checking it with -w echo")
    own = analyze("workload", str(lin_kv_run), cwd=tmp_path)
    assert own.returncode == 0 and own.stderr == "", own.stdout + own.stderr


def test_a_directory_that_is_not_a_run(tmp_path: Path) -> None:
    for command in ("linearizable", "txn", "workload"):
        proc = analyze(command, str(tmp_path), cwd=tmp_path)
        assert proc.returncode == 2
        assert one_line(proc.stderr).startswith(f"error: {tmp_path} is not a run directory")
