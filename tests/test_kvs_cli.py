"""The real ``kvs`` entry point and Talent Plan's command-line contract."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from distlab import __version__

KVS = Path(sys.executable).parent / "kvs"

pytestmark = pytest.mark.skipif(
    not KVS.exists(), reason=f"{KVS} missing: run `pip install -e .` first"
)


def kvs(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(KVS), *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_version(tmp_path: Path) -> None:
    for flag in ("-V", "--version"):
        r = kvs(flag, cwd=tmp_path)
        assert (r.returncode, r.stdout) == (0, f"kvs {__version__}\n")
    assert not list(tmp_path.iterdir())  # -V touches no data directory


def test_set_get_rm_in_the_current_directory(tmp_path: Path) -> None:
    r = kvs("set", "key1", "value1", cwd=tmp_path)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert (tmp_path / "engine").read_text() == "kvs\n"  # default: cwd, engine kvs
    r = kvs("get", "key1", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, "value1\n")
    kvs("set", "key1", "value2", cwd=tmp_path)
    assert kvs("get", "key1", cwd=tmp_path).stdout == "value2\n"
    r = kvs("rm", "key1", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, "")
    r = kvs("get", "key1", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, "Key not found\n")


def test_get_missing_prints_key_not_found_and_succeeds(tmp_path: Path) -> None:
    r = kvs("get", "nope", cwd=tmp_path)
    assert (r.returncode, r.stdout, r.stderr) == (0, "Key not found\n", "")


def test_rm_missing_prints_key_not_found_and_fails(tmp_path: Path) -> None:
    r = kvs("rm", "nope", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (1, "Key not found\n")
    kvs("set", "k", "v", cwd=tmp_path)
    assert kvs("rm", "k", cwd=tmp_path).returncode == 0
    r = kvs("rm", "k", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (1, "Key not found\n")


@pytest.mark.parametrize(
    "args",
    [
        pytest.param([], id="no-command"),
        pytest.param(["get"], id="get-without-key"),
        pytest.param(["get", "a", "extra"], id="get-extra"),
        pytest.param(["set", "a"], id="set-without-value"),
        pytest.param(["set", "a", "b", "c"], id="set-extra"),
        pytest.param(["rm"], id="rm-without-key"),
        pytest.param(["rm", "a", "b"], id="rm-extra"),
        pytest.param(["frobnicate", "a"], id="unknown-command"),
        pytest.param(["--engine", "redis", "get", "a"], id="unknown-engine"),
        pytest.param(["--fsync", "sometimes", "get", "a"], id="unknown-fsync"),
        pytest.param(["--bogus"], id="unknown-option"),
    ],
)
def test_wrong_arguments_are_usage_errors(tmp_path: Path, args: list[str]) -> None:
    r = kvs(*args, cwd=tmp_path)
    assert r.returncode == 2, r
    assert r.stdout == "" and "Usage: kvs" in r.stderr
    assert not (tmp_path / "engine").exists()  # nothing was opened


def test_dir_and_engine_options_before_or_after_the_command(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for engine in ("kvs", "sqlite", "lmdb", "rocksdb"):
        d = data / engine
        assert (
            kvs("--dir", str(d), "--engine", engine, "set", "k", engine, cwd=tmp_path).returncode
            == 0
        )
        r = kvs("get", "k", "--dir", str(d), "--engine", engine, cwd=tmp_path)
        assert (r.returncode, r.stdout) == (0, f"{engine}\n")
        assert (d / "engine").read_text() == f"{engine}\n"
    assert not (tmp_path / "engine").exists()


def test_engine_mismatch_is_a_clear_error(tmp_path: Path) -> None:
    assert kvs("set", "k", "v", cwd=tmp_path).returncode == 0
    r = kvs("--engine", "sqlite", "get", "k", cwd=tmp_path)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == "error: data directory . was written by engine 'kvs', not 'sqlite'\n"
    assert kvs("get", "k", cwd=tmp_path).stdout == "v\n"  # untouched


def test_utf8_and_odd_strings(tmp_path: Path) -> None:
    for key, value in [("ключ", "значение ✓"), ("with space", "  padded  "), ("-", "")]:
        assert kvs("set", "--", key, value, cwd=tmp_path).returncode == 0
        r = kvs("get", "--", key, cwd=tmp_path)
        assert (r.returncode, r.stdout) == (0, value + "\n")


def test_many_invocations_then_reload(tmp_path: Path) -> None:
    for i in range(5):
        kvs("set", f"key{i}", f"value{i}", cwd=tmp_path)
    kvs("rm", "key2", cwd=tmp_path)
    outs = [kvs("get", f"key{i}", cwd=tmp_path).stdout for i in range(5)]
    assert outs == ["value0\n", "value1\n", "Key not found\n", "value3\n", "value4\n"]
    assert os.listdir(tmp_path)  # data lives in the current directory
