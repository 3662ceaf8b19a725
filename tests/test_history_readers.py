"""Readers for foreign histories: every reference file parses; bad input names file:line."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import pytest

from distlab.history import HistoryError, read_edn, read_history, read_jepsen_log
from tests.conftest import shared_data, shared_glob

DATA = shared_data()
SLOW_FILES = {"huge-scc.edn"}  # 2.8 MB: edn_format alone takes ~7 s


def data_files(pattern: str) -> list[Path]:
    """Reference files matching `pattern`; fails (at collection) if there are none."""
    return shared_glob(pattern)


@functools.cache
def load(path: Path) -> tuple:
    """Parsed once per test session (edn_format is slow); shared with the checker tests."""
    return tuple(read_history(path))


def _params(paths: list[Path]) -> list:
    return [pytest.param(p, id=str(p.relative_to(DATA)),
                         marks=[pytest.mark.slow] if p.name in SLOW_FILES else [])
            for p in paths]


ALL = sorted(data_files("**/*.log") + data_files("**/*.txt") + data_files("**/*.edn"))


def test_shared_data_helpers_fail_loudly_on_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match=r"reference data missing: .*nope does not exist"):
        shared_data("nope", root=tmp_path)
    with pytest.raises(pytest.fail.Exception, match="reference data missing: .*gone does not exist"):
        shared_glob("*.edn", root=tmp_path / "gone")
    with pytest.raises(pytest.fail.Exception, match=r"no file matches .*\*\.edn"):
        shared_glob("*.edn", root=tmp_path)  # the folder exists, but holds nothing


def test_a_missing_folder_is_a_collection_error_not_zero_tests(tmp_path: Path) -> None:
    # What a parametrized test over reference files does when they are missing.
    (tmp_path / "test_over_files.py").write_text(
        "import pytest\n"
        "from pathlib import Path\n"
        "from tests.conftest import shared_glob\n"
        f"@pytest.mark.parametrize('path', shared_glob('*.edn', root=Path({str(tmp_path / 'gone')!r})))\n"
        "def test_file(path):\n"
        "    pass\n")
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path), str(tmp_path / "test_over_files.py")],
                          cwd=tmp_path, env={"PYTHONPATH": str(root), "PATH": ""},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0, proc.stdout
    assert "reference data missing" in proc.stdout and "gone does not exist" in proc.stdout
    assert "1 error" in proc.stdout


def test_data_present() -> None:
    assert len(data_files("porcupine/jepsen/*.log")) == 102
    assert len(data_files("porcupine/kv/*.txt")) == 6
    assert data_files("knossos/cas-register/good/*.edn")
    assert data_files("knossos/cas-register/bad/*.edn")


@pytest.mark.parametrize("path", _params(ALL))
def test_every_data_file_parses(path: Path) -> None:
    records = load(path)
    assert records or "mongodb" in path.name
    for rec in records:
        assert isinstance(rec, dict)
        assert rec["type"] in ("invoke", "ok", "fail", "info"), rec
        assert "index" in rec
        proc = rec.get("process", 0)
        assert isinstance(proc, int) or proc == "nemesis", rec


def test_jepsen_log_shapes() -> None:
    recs = read_jepsen_log(DATA / "porcupine/jepsen/etcd_002.log")
    assert recs[0] == {"index": 0, "process": 4, "type": "invoke", "f": "read", "value": None}
    kinds = {(r["type"], r["f"], type(r["value"]).__name__) for r in recs}
    assert ("invoke", "cas", "list") in kinds
    assert ("info", "write", "str") in kinds  # :timed-out -> "timed-out"
    assert all(isinstance(r["process"], int) for r in recs)


def test_edn_conversion(tmp_path: Path) -> None:
    p = tmp_path / "h.edn"
    p.write_text('; a comment\n[{:process 0, :type :invoke, :f :cas, :value [1 2], :time 5}\n'
                 ' {:process :nemesis, :type :info, :f :start, :value #{3 1 2}}\n'
                 ' ; another\n {:process 0, :type :fail, :f :cas, :value (1 2),'
                 ' :error [:not-found nil], :index 7, :key "k", :m {:a 1, 2 :b}}]\n')
    recs = read_edn(p)
    assert recs[0] == {"process": 0, "type": "invoke", "f": "cas", "value": [1, 2], "time": 5,
                       "index": 0}
    assert recs[1]["process"] == "nemesis" and recs[1]["value"] == [1, 2, 3]
    assert recs[2]["error"] == ["not-found", None] and recs[2]["index"] == 7
    assert recs[2]["value"] == [1, 2] and recs[2]["key"] == "k"
    assert recs[2]["m"] == {"a": 1, "2": "b"}
    assert read_history(p) == recs


def test_edn_one_map_per_line_and_jsonl(tmp_path: Path) -> None:
    p = tmp_path / "h.txt"
    p.write_text('{:process 0, :type :invoke, :f :get, :key "0", :value nil}\n\n'
                 '{:process 0, :type :ok, :f :get, :key "0", :value ""}\n')
    assert [r["value"] for r in read_history(p)] == [None, ""]
    j = tmp_path / "h.jsonl"
    j.write_text('{"process": 1, "type": "invoke", "f": "read", "value": null}\n')
    assert read_history(j) == [{"process": 1, "type": "invoke", "f": "read", "value": None,
                                "index": 0}]


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.edn"
    p.write_text("; nothing\n\n")
    assert read_history(p) == []


@pytest.mark.parametrize("name, text, line", [
    ("a.edn", "[{:process 1, :type :invoke, :f :read}\n {:process 1, :type :ok :f}\n]\n", 2),
    ("b.edn", "{:process 1, :type :invoke}\n{:process 1, :type :ok}\n[1 2]\n", 3),
    ("c.edn", "{:process 1, :type :invoke}\n\n{:process 1 :type :ok\n", 3),
    ("d.edn", '[{:process 1, :type :invoke}\n {:process 1, :value "abc}\n]\n', 2),
    ("e.edn", "[{:process 1, :type :invoke}\n {:process 1, :f :read}]\n", 2),
    ("f.edn", "[{:process 1, :type :invoke}]]\n", 1),
    ("g.log", "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO jepsen.util - garbage\n", 2),
    ("h.log", "INFO  jepsen.util - 0 :invoke :cas [1\n", 1),
    ("i.jsonl", '{"type": "invoke", "process": 0}\n{"type":\n', 2),
    ("j.jsonl", '{"type": "invoke", "process": 0}\n\n{"process": 0}\n', 3),
    ("k.txt", "hello\n", 1),
])
def test_malformed_names_file_and_line(tmp_path: Path, name: str, text: str, line: int) -> None:
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(HistoryError) as info:
        read_history(p)
    msg = str(info.value)
    assert msg.startswith(f"{p}:{line}: "), msg
    assert "\n" not in msg


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="cannot read"):
        read_history(tmp_path / "nope.edn")
