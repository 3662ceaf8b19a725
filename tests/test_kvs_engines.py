"""Every engine behind open_engine: one contract, the marker, mismatches, threads."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest

from distlab.systems.kvs import ENGINES, Engine, EngineMismatch, KeyNotFound, KvsError, open_engine
from distlab.systems.kvs.engines import read_marker

FSYNCS = ["always", "batch", "never"]


@pytest.mark.parametrize("engine", ENGINES)
def test_contract(tmp_path: Path, engine: str) -> None:
    s = open_engine(tmp_path / "d", engine)
    assert isinstance(s, Engine)
    assert s.get(b"a") is None
    s.set(b"a", b"1")
    s.set(b"b", b"\x00\xff binary")
    s.set(b"a", b"2")
    s.set(b"big", b"v" * 100_000)
    s.set(b"e", b"")
    assert s.get(b"a") == b"2" and s.get(b"b") == b"\x00\xff binary"
    assert s.get(b"big") == b"v" * 100_000 and s.get(b"e") == b""
    s.remove(b"b")
    assert s.get(b"b") is None
    with pytest.raises(KeyNotFound) as exc:
        s.remove(b"b")
    assert str(exc.value) == "Key not found"
    with pytest.raises(KeyNotFound):
        s.remove(b"missing")
    s.close()
    s.close()  # idempotent
    s = open_engine(tmp_path / "d", engine)
    assert s.get(b"a") == b"2" and s.get(b"b") is None and s.get(b"e") == b""
    s.close()
    assert (tmp_path / "d" / "engine").read_text() == engine + "\n"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fsync", FSYNCS)
def test_fsync_policies(tmp_path: Path, engine: str, fsync: str) -> None:
    s = open_engine(tmp_path, engine, fsync=fsync)
    for i in range(20):
        s.set(b"k%d" % i, b"v%d" % i)
    s.close()
    s = open_engine(tmp_path, engine, fsync=fsync)
    assert [s.get(b"k%d" % i) for i in range(20)] == [b"v%d" % i for i in range(20)]
    s.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_bad_fsync_policy(tmp_path: Path, engine: str) -> None:
    with pytest.raises(KvsError, match="unknown fsync policy 'maybe'"):
        open_engine(tmp_path, engine, fsync="maybe")


@pytest.mark.parametrize("engine", ENGINES)
def test_closed_engine_refuses(tmp_path: Path, engine: str) -> None:
    s = open_engine(tmp_path, engine)
    s.close()
    with pytest.raises(KvsError, match="closed"):
        s.set(b"a", b"b")


@pytest.mark.parametrize("first", ENGINES)
def test_engine_mismatch(tmp_path: Path, first: str) -> None:
    s = open_engine(tmp_path, first)
    s.set(b"k", b"v")
    s.close()
    for other in ENGINES:
        if other == first:
            continue
        with pytest.raises(EngineMismatch) as exc:
            open_engine(tmp_path, other)
        assert str(exc.value) == (
            f"data directory {tmp_path} was written by engine '{first}', not '{other}'"
        )
    s = open_engine(tmp_path, first)  # the rightful engine still opens it, data intact
    assert s.get(b"k") == b"v"
    s.close()


@pytest.mark.parametrize("first", ENGINES)
def test_mismatch_detected_without_the_marker(tmp_path: Path, first: str) -> None:
    open_engine(tmp_path, first).close()
    (tmp_path / "engine").unlink()
    assert read_marker(tmp_path) == first
    other = "kvs" if first != "kvs" else "sqlite"
    with pytest.raises(EngineMismatch, match=f"written by engine '{first}'"):
        open_engine(tmp_path, other)


def test_unknown_engine_and_bad_directory(tmp_path: Path) -> None:
    with pytest.raises(KvsError, match="unknown engine 'redis'; choose one of kvs, sqlite"):
        open_engine(tmp_path, "redis")
    (tmp_path / "file").write_text("x")
    with pytest.raises(KvsError, match="cannot create data directory"):
        open_engine(tmp_path / "file", "kvs")
    assert read_marker(tmp_path / "nowhere") is None


def test_unknown_options_are_refused_before_touching_the_directory(tmp_path: Path) -> None:
    with pytest.raises(KvsError, match="engine 'sqlite' takes no option compact_threshold"):
        open_engine(tmp_path / "s", "sqlite", compact_threshold=10)
    with pytest.raises(KvsError, match="engine 'kvs' takes no option map_size"):
        open_engine(tmp_path / "k", "kvs", map_size=10)
    assert not (tmp_path / "s").exists() and not (tmp_path / "k").exists()
    s = open_engine(tmp_path / "k", "kvs", compact_threshold=10, batch_ms=5, fsync="batch")
    s.close()
    open_engine(tmp_path / "l", "lmdb", map_size=1 << 24, batch_ms=5).close()


def test_lmdb_key_limits_are_errors_not_crashes(tmp_path: Path) -> None:
    s = open_engine(tmp_path, "lmdb")
    with pytest.raises(KvsError, match="key must be 1..511 bytes"):
        s.set(b"k" * 512, b"v")
    with pytest.raises(KvsError, match="key must be 1..511 bytes"):
        s.set(b"", b"v")
    assert s.get(b"k" * 512) is None
    with pytest.raises(KeyNotFound):
        s.remove(b"")
    s.set(b"k" * 511, b"ok")
    assert s.get(b"k" * 511) == b"ok"
    s.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_many_threads(tmp_path: Path, engine: str) -> None:
    """Concurrent writers on disjoint keys and readers on all: no errors, no lost writes."""
    s = open_engine(tmp_path, engine, fsync="never")
    errors: list[BaseException] = []

    def work(t: int) -> None:
        rng = random.Random(t)
        try:
            for i in range(150):
                key = b"t%d-%d" % (t, i % 25)
                s.set(key, b"%d" % i)
                assert s.get(key) == b"%d" % i
                other = s.get(b"t%d-%d" % (rng.randrange(6), rng.randrange(25)))
                assert other is None or other.isdigit()
                if i % 10 == 9:
                    s.remove(key)
                    assert s.get(key) is None
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    expected = {}
    for t in range(6):
        for i in range(150):
            key = b"t%d-%d" % (t, i % 25)
            expected[key] = None if i % 10 == 9 else b"%d" % i
    assert {k: s.get(k) for k in expected} == expected
    s.close()


@pytest.mark.parametrize("engine", ["sqlite", "lmdb", "rocksdb"])
def test_close_is_idempotent_and_later_calls_fail_clearly(tmp_path: Path, engine: str) -> None:
    store = open_engine(tmp_path / engine, engine, fsync="batch")
    store.set(b"k", b"v")
    store.close()
    store.close()
    with pytest.raises(KvsError, match=f"{engine}: engine is closed"):
        store.set(b"k", b"w")
    reopened = open_engine(tmp_path / engine, engine)
    assert reopened.get(b"k") == b"v"  # close made the batch-synced write durable
    reopened.close()
