"""KvStore, our bitcask engine: logs, index, recovery, corruption, compaction, concurrency."""

from __future__ import annotations

import os
import random
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from distlab.systems.kvs import EngineMismatch, KeyNotFound, KvsError, KvStore, open_engine
from distlab.systems.kvs.store import HEADER, encode_record


def logs(path: Path) -> list[Path]:
    return sorted(path.glob("*.log"))


def dir_bytes(path: Path) -> int:
    """Bytes the directory's files take on disk (allocated blocks, not just lengths)."""
    return sum(p.stat().st_blocks * 512 for p in path.iterdir() if p.is_file())


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.iterdir() if p.is_file())


def fill(store: KvStore, n: int, prefix: str = "k", size: int = 50) -> dict[bytes, bytes]:
    data = {}
    for i in range(n):
        key = f"{prefix}{i}".encode()
        value = bytes([i % 251]) * (size + i)
        store.set(key, value)
        data[key] = value
    return data


# ----------------------------------------------------------------- basic contract


def test_set_get_remove_and_reopen(tmp_path: Path) -> None:
    with KvStore.open(tmp_path) as s:
        assert s.get(b"a") is None
        s.set(b"a", b"1")
        s.set(b"b", b"2")
        s.set(b"a", b"3")
        s.set(b"", b"empty key")
        s.set(b"nul", b"\x00" * 10)
        s.set(b"big", os.urandom(200_000))
        big = s.get(b"big")
        s.remove(b"b")
        with pytest.raises(KeyNotFound, match="^Key not found$"):
            s.remove(b"b")
        with pytest.raises(KeyNotFound):
            s.remove(b"never")
        assert s.get(b"a") == b"3" and s.get(b"b") is None
    with KvStore.open(tmp_path) as s:
        assert s.get(b"a") == b"3"
        assert s.get(b"b") is None  # the tombstone survives a reopen
        assert s.get(b"") == b"empty key"
        assert s.get(b"nul") == b"\x00" * 10
        assert s.get(b"big") == big
        assert sorted(s.keys()) == [b"", b"a", b"big", b"nul"]
        assert len(s) == 4 and b"a" in s and b"b" not in s
    assert (tmp_path / "engine").read_text().strip() == "kvs"


def test_type_and_option_errors(tmp_path: Path) -> None:
    with pytest.raises(KvsError, match="unknown fsync policy 'sometimes'"):
        KvStore.open(tmp_path, fsync="sometimes")
    with KvStore.open(tmp_path) as s:
        with pytest.raises(TypeError, match="key must be bytes"):
            s.set("a", b"1")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="value must be bytes"):
            s.set(b"a", "1")  # type: ignore[arg-type]
        s.set(bytearray(b"ba"), memoryview(b"mv"))
        assert s.get(b"ba") == b"mv"
    with pytest.raises(KvsError, match="store is closed"):
        s.get(b"ba")
    with pytest.raises(KvsError, match="store is closed"):
        s.set(b"x", b"y")


def test_directory_is_locked_while_open(tmp_path: Path) -> None:
    s = KvStore.open(tmp_path)
    with pytest.raises(KvsError, match="in use by another store"):
        KvStore.open(tmp_path)
    s.close()
    KvStore.open(tmp_path).close()  # released on close


def test_sqlite_directory_is_refused(tmp_path: Path) -> None:
    open_engine(tmp_path, "sqlite").close()
    with pytest.raises(EngineMismatch, match="written by engine 'sqlite', not 'kvs'"):
        KvStore.open(tmp_path)


def test_record_layout() -> None:
    rec = encode_record(b"key", b"value")
    crc, flags, klen, vlen = HEADER.unpack_from(rec)
    assert (flags, klen, vlen) == (0, 3, 5) and rec.endswith(b"keyvalue")
    assert len(rec) == HEADER.size + 8
    assert HEADER.unpack_from(encode_record(b"key", b"", 1))[1] == 1


@pytest.mark.parametrize("fsync", ["always", "batch", "never"])
def test_fsync_policies_store_and_reload(tmp_path: Path, fsync: str) -> None:
    with KvStore.open(tmp_path, fsync=fsync, batch_ms=1, batch_writes=7) as s:
        data = fill(s, 50)
        time.sleep(0.01)
    with KvStore.open(tmp_path, fsync=fsync) as s:
        assert {k: s.get(k) for k in data} == data


def test_group_commit_shares_fsyncs_between_concurrent_writers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distlab.systems.kvs import store as store_module

    syncs = []
    real_sync = store_module._LogFile.sync

    def slow_sync(self: store_module._LogFile) -> None:
        syncs.append(self.size)
        time.sleep(0.002)  # a disk flush: other writers queue up meanwhile
        real_sync(self)

    monkeypatch.setattr(store_module._LogFile, "sync", slow_sync)
    s = KvStore.open(tmp_path, fsync="always")

    def work(t: int) -> None:
        for i in range(40):
            s.set(f"t{t}-{i}".encode(), b"v" * i)
            if i % 8 == 7:
                s.remove(f"t{t}-{i}".encode())

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ops = 8 * (40 + 5)
    assert len(syncs) < ops / 3, (len(syncs), ops)  # many writes per fsync
    s.close()
    with KvStore.open(tmp_path) as s:
        assert len(s) == 8 * 35
        assert all(s.get(f"t{t}-{i}".encode()) == b"v" * i for t in range(8) for i in range(7))


def test_single_writer_fsyncs_every_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from distlab.systems.kvs import store as store_module

    syncs = []
    real_sync = store_module._LogFile.sync
    monkeypatch.setattr(
        store_module._LogFile, "sync", lambda self: (syncs.append(1), real_sync(self))
    )
    with KvStore.open(tmp_path, fsync="always") as s:
        before = len(syncs)
        for i in range(10):
            s.set(b"k%d" % i, b"v")
        s.remove(b"k0")
        assert len(syncs) - before == 11
    with KvStore.open(tmp_path, fsync="never") as s:
        before = len(syncs)
        for i in range(10):
            s.set(b"k%d" % i, b"v")
        assert len(syncs) == before


# --------------------------------------------------------------- torn tails


def _store_with(tmp_path: Path, n: int = 10) -> tuple[dict[bytes, bytes], int]:
    with KvStore.open(tmp_path) as s:
        data = fill(s, n)
    (log,) = logs(tmp_path)
    return data, log.stat().st_size


def _assert_recovers(tmp_path: Path, expect: dict[bytes, bytes], size: int) -> None:
    with KvStore.open(tmp_path) as s:
        assert {k: s.get(k) for k in expect} == expect
        assert logs(tmp_path)[-1].stat().st_size == size  # the bad tail is gone
        s.set(b"after", b"recovery")
    with KvStore.open(tmp_path) as s:  # new writes went after the cut, cleanly
        assert s.get(b"after") == b"recovery"
        assert {k: s.get(k) for k in expect} == expect


def test_torn_tail_truncated_mid_record(tmp_path: Path) -> None:
    data, size = _store_with(tmp_path)
    last = encode_record(b"k9", data[b"k9"])
    (log,) = logs(tmp_path)
    with open(log, "r+b") as fh:
        fh.truncate(size - 7)
    del data[b"k9"]
    _assert_recovers(tmp_path, data, size - len(last))
    with KvStore.open(tmp_path) as s:
        assert s.get(b"k9") is None


@pytest.mark.parametrize(
    "tail",
    [
        pytest.param(b"\x00" * 4096, id="zeros"),
        pytest.param(random.Random(7).randbytes(3000), id="random-garbage"),
        pytest.param(encode_record(b"torn", b"x" * 1000)[:600], id="header-without-payload"),
        pytest.param(encode_record(b"torn", b"v")[:5], id="half-header"),
        pytest.param(b"\xff" * 40, id="absurd-lengths"),
    ],
)
def test_torn_tail_garbage_is_cut(tmp_path: Path, tail: bytes) -> None:
    data, size = _store_with(tmp_path)
    (log,) = logs(tmp_path)
    with open(log, "ab") as fh:
        fh.write(tail)
    _assert_recovers(tmp_path, data, size)


def test_complete_last_record_with_bad_crc_is_a_torn_tail(tmp_path: Path) -> None:
    """A crash can leave the last record's length on disk but not its bytes."""
    data, size = _store_with(tmp_path)
    (log,) = logs(tmp_path)
    with open(log, "r+b") as fh:
        fh.seek(size - 1)
        fh.write(b"\x99")
    del data[b"k9"]
    _assert_recovers(tmp_path, data, size - len(encode_record(b"k9", bytes([9]) * 59)))


def test_a_cut_at_any_offset_keeps_every_whole_record(tmp_path: Path) -> None:
    """Whatever prefix of the newest file survives a crash, whole records are kept, rest cut."""
    src = tmp_path / "src"
    with KvStore.open(src) as s:
        s.set(b"a", b"1" * 40)
        s.set(b"b", b"2" * 30)
        s.remove(b"a")
        s.set(b"c", b"")
        s.set(b"b", b"3" * 20)
    (log,) = logs(src)
    full = log.read_bytes()
    ends = []  # offsets where a record ends, and the state after it
    state: dict[bytes, bytes] = {}
    pos = 0
    for key, value, flags in [
        (b"a", b"1" * 40, 0),
        (b"b", b"2" * 30, 0),
        (b"a", b"", 1),
        (b"c", b"", 0),
        (b"b", b"3" * 20, 0),
    ]:
        pos += len(encode_record(key, value, flags))
        if flags:
            state.pop(key)
        else:
            state[key] = value
        ends.append((pos, dict(state)))
    assert pos == len(full)
    for cut in range(len(full) + 1):
        d = tmp_path / f"cut{cut}"
        shutil.copytree(src, d)
        with open(d / log.name, "r+b") as fh:
            fh.truncate(cut)
        kept_end, expect = max(((e, st) for e, st in ends if e <= cut), default=(0, {}))
        with KvStore.open(d) as s:
            assert {k: s.get(k) for k in (b"a", b"b", b"c")} == {
                k: expect.get(k) for k in (b"a", b"b", b"c")
            }, cut
        assert (d / log.name).stat().st_size == kept_end
        shutil.rmtree(d)


# ---------------------------------------------------------------- corruption


def test_corruption_in_the_middle_is_reported_not_cut(tmp_path: Path) -> None:
    data, size = _store_with(tmp_path)
    (log,) = logs(tmp_path)
    offset = sum(len(encode_record(k, v)) for k, v in list(data.items())[:3])
    with open(log, "r+b") as fh:
        fh.seek(offset + HEADER.size + 4)  # inside record 3's value
        fh.write(b"\x42")
    with pytest.raises(
        KvsError, match=rf"corrupt record in {re.escape(str(log))} at offset {offset}: CRC"
    ):
        KvStore.open(tmp_path)
    assert log.stat().st_size == size  # nothing was cut: valid data follows the damage
    with KvStore.open(tmp_path, repair=True) as s:  # the operator's way out: cut there
        assert {k: s.get(k) for k in list(data)[:3]} == dict(list(data.items())[:3])
        assert all(s.get(k) is None for k in list(data)[3:])
    assert log.stat().st_size == offset


def test_corrupt_length_field_in_the_middle_is_reported(tmp_path: Path) -> None:
    data, _ = _store_with(tmp_path)
    (log,) = logs(tmp_path)
    offset = len(encode_record(b"k0", data[b"k0"]))
    with open(log, "r+b") as fh:
        fh.seek(offset + 5)  # key_len of record 1: now runs past the end
        fh.write(b"\xff\xff\xff\x7f")
    with pytest.raises(KvsError, match=f"at offset {offset}: record runs past end of file"):
        KvStore.open(tmp_path)


def test_damage_in_an_older_generation_is_reported(tmp_path: Path) -> None:
    with KvStore.open(tmp_path, auto_compact=False) as s:
        fill(s, 10)
        s.compact()  # live data now in an older generation, writes go to a newer one
        s.set(b"new", b"gen")
    older = logs(tmp_path)[0]
    size = older.stat().st_size
    with open(older, "r+b") as fh:
        fh.truncate(size - 3)  # a torn tail is only acceptable in the newest file
    with pytest.raises(
        KvsError, match=rf"{re.escape(str(older))} at offset \d+ \(older generation\)"
    ):
        KvStore.open(tmp_path)


def test_get_checks_the_crc_of_what_it_reads(tmp_path: Path) -> None:
    with KvStore.open(tmp_path) as s:
        fill(s, 5)
        (log,) = logs(tmp_path)
        off = len(encode_record(b"k0", bytes([0]) * 50))
        fd = os.open(log, os.O_RDWR)
        try:
            os.pwrite(fd, b"X", off + HEADER.size + 5)  # k1's value, behind the store's back
        finally:
            os.close(fd)
        with pytest.raises(KvsError, match=f"corrupt record in .* at offset {off}: CRC mismatch"):
            s.get(b"k1")
        assert s.get(b"k0") == bytes([0]) * 50 and s.get(b"k2") == bytes([2]) * 52


# ---------------------------------------------------------------- compaction


def test_compaction_shrinks_the_directory(tmp_path: Path) -> None:
    rng = random.Random(1)
    with KvStore.open(tmp_path, auto_compact=False, fsync="never") as s:
        for _version in range(8):
            for i in range(100):
                s.set(f"k{i}".encode(), rng.randbytes(10_000))
        for i in range(0, 100, 2):
            s.remove(f"k{i}".encode())
        expect = {k: s.get(k) for k in s.keys()}
        before_bytes, before_size = dir_bytes(tmp_path), dir_size(tmp_path)
        s.compact()
        after_bytes, after_size = dir_bytes(tmp_path), dir_size(tmp_path)
        assert {k: s.get(k) for k in expect} == expect
        stats = s.stats()
    assert before_size > 8_000_000
    assert after_size < before_size / 10  # 50 of 800 values stay live
    assert after_bytes < before_bytes / 10
    assert stats["stale_bytes"] == 0 and stats["live_bytes"] >= 50 * 10_000
    assert len(logs(tmp_path)) == 2  # the compacted generation and the new active one
    with KvStore.open(tmp_path) as s:
        assert {k: s.get(k) for k in s.keys()} == expect and len(s) == 50


def test_auto_compaction_keeps_the_directory_small(tmp_path: Path) -> None:
    """Stale bytes over the threshold and over half the total start a background compaction."""

    def settle(s: KvStore) -> None:
        deadline = time.monotonic() + 10
        while s._compact_thread is not None and time.monotonic() < deadline:
            time.sleep(0.005)

    with KvStore.open(tmp_path, compact_threshold=64 * 1024, fsync="never") as s:
        for i in range(3000):  # 3 MB written, 20 KB live
            s.set(f"k{i % 20}".encode(), bytes([i % 256]) * 1000)
        for _ in range(5):  # writes made during a compaction need one more trigger
            settle(s)
            s.set(b"k0", bytes([2980 % 256]) * 1000)
        settle(s)
        assert s.compactions >= 2 and s.last_compaction_error is None
        assert {s.get(f"k{i}".encode()) for i in range(20)} == {
            bytes([(2980 + i) % 256]) * 1000 for i in range(20)
        }
        stats = s.stats()
    # Below the trigger: stale <= 64 KiB or stale <= live (about 20 KB).
    assert stats["stale_bytes"] <= 64 * 1024 or stats["stale_bytes"] * 2 <= stats["total_bytes"]
    assert dir_size(tmp_path) < 64 * 1024 + 2 * 21_000


def test_compaction_never_blocks_readers_or_writers_while_copying(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = KvStore.open(tmp_path, auto_compact=False)
    data = fill(s, 50)
    copying, release = threading.Event(), threading.Event()
    original = KvStore._copy_live

    def slow_copy(self: KvStore, *args: object) -> object:
        copying.set()
        assert release.wait(10)
        return original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(KvStore, "_copy_live", slow_copy)
    t = threading.Thread(target=s.compact)
    t.start()
    assert copying.wait(5)
    # Compaction is stuck mid-copy: reads and writes still complete.
    assert {k: s.get(k) for k in data} == data
    s.set(b"k3", b"written during compaction")
    s.remove(b"k4")
    s.set(b"fresh", b"key")
    release.set()
    t.join(10)
    assert not t.is_alive() and s.compactions == 1
    data.update({b"k3": b"written during compaction", b"fresh": b"key"})
    del data[b"k4"]
    assert {k: s.get(k) for k in data} == data and s.get(b"k4") is None
    s.close()
    with KvStore.open(tmp_path) as s:
        assert {k: s.get(k) for k in data} == data and s.get(b"k4") is None


def test_a_crash_leftover_compaction_file_is_discarded(tmp_path: Path) -> None:
    data, _ = _store_with(tmp_path)
    (tmp_path / "0000000002.compact").write_bytes(b"half a compaction")
    with KvStore.open(tmp_path) as s:
        assert {k: s.get(k) for k in data} == data
    assert not list(tmp_path.glob("*.compact"))


COMPACTIONS_UNDER_LOAD = 3


def test_concurrent_readers_writers_and_compactions(tmp_path: Path) -> None:
    """Readers must only ever see a value some writer wrote for that key."""
    s = KvStore.open(tmp_path, compact_threshold=32 * 1024, fsync="never")
    keys = [f"k{i}".encode() for i in range(30)]
    for k in keys:
        s.set(k, k + b":0:" + b"x" * 500)
    stop = threading.Event()
    errors: list[BaseException] = []

    done = [0] * 6  # writes (threads 0-1) and reads (2-5) each thread finished

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        version = 0
        while not stop.is_set():
            version += 1
            k = rng.choice(keys)
            s.set(k, k + f":{version}:".encode() + b"x" * rng.randrange(1000))
            done[seed] += 1

    def reader(seed: int) -> None:
        rng = random.Random(seed)
        try:
            while not stop.is_set():
                k = rng.choice(keys)
                v = s.get(k)
                assert v is not None and v.startswith(k + b":"), (k, v[:40] if v else v)
                done[seed - 8] += 1
        except BaseException as exc:
            errors.append(exc)

    def progressed(since: list[int]) -> bool:
        """Every thread finished an operation since `since`, or a reader failed."""
        return bool(errors) or all(d > b for d, b in zip(done, since, strict=True))

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    threads += [threading.Thread(target=reader, args=(10 + i,)) for i in range(4)]
    for t in threads:
        t.start()
    # A count of compactions, each started once every reader and writer has moved
    # on since the last, instead of as many as fit in 1.5 wall seconds.
    for _ in range(COMPACTIONS_UNDER_LOAD):
        since = list(done)
        while not progressed(since):
            time.sleep(0.001)
        s.compact()
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert s.compactions >= COMPACTIONS_UNDER_LOAD and s.last_compaction_error is None
    final = {k: s.get(k) for k in keys}
    s.close()
    with KvStore.open(tmp_path) as s2:
        assert {k: s2.get(k) for k in keys} == final


# ---------------------------------------------------- property test: a dict model


class StoreMatchesDict(RuleBasedStateMachine):
    """Random set/remove/get/reopen/compact sequences behave like a dict."""

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="kvs-prop-"))
        self.store = KvStore.open(self.dir, fsync="never", auto_compact=False)
        self.model: dict[bytes, bytes] = {}

    keys = st.binary(max_size=3)
    values = st.binary(max_size=300)

    @rule(key=keys, value=values)
    def set(self, key: bytes, value: bytes) -> None:
        self.store.set(key, value)
        self.model[key] = value

    @rule(key=keys)
    def remove(self, key: bytes) -> None:
        if key in self.model:
            self.store.remove(key)
            del self.model[key]
        else:
            with pytest.raises(KeyNotFound):
                self.store.remove(key)

    @rule(key=keys)
    def get(self, key: bytes) -> None:
        assert self.store.get(key) == self.model.get(key)

    @rule()
    def reopen(self) -> None:
        self.store.close()
        self.store = KvStore.open(self.dir, fsync="never", auto_compact=False)

    @precondition(lambda self: True)
    @rule()
    def compact(self) -> None:
        self.store.compact()
        assert self.store.stats()["stale_bytes"] == 0

    @invariant()
    def same_contents(self) -> None:
        assert sorted(self.store.keys()) == sorted(self.model)
        assert all(self.store.get(k) == v for k, v in self.model.items())

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)


TestStoreMatchesDict = StoreMatchesDict.TestCase
TestStoreMatchesDict.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
