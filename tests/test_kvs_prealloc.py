"""The kvs engine's preallocated log: zeros written ahead of the last record.

Under fsync always/batch the active log is kept zero-filled ahead of its end, so an
fdatasync flushes data without a new file length. Recovery must then find the end of the
log inside zeros: a region of zeros to the end of the file is the clean end, anything else
is still a torn tail (cut, with one warning line) or corruption (one-line KvsError). Values
may hold zero bytes, so "the first zero byte" is never the end: the mutant tests below show
that recovery variants stopping early are caught by the same checks.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from distlab.systems.kvs import store as store_module
from distlab.systems.kvs.engines import KvsError
from distlab.systems.kvs.store import HEADER, PREALLOC_CHUNK, KvStore, encode_record

CHUNK = 4096  # small chunks: several preallocations in a few hundred records


def crash(store: KvStore) -> None:
    """The process died: descriptors and the flock go, nothing more is written."""
    if store._sync_thread is not None:  # batch policy: its syncer must not outlive the fds
        store._sync_stop.set()
        store._sync_wake.set()
        store._sync_thread.join()
    store._release()


def the_log(path: Path) -> Path:
    return max(p for p in path.iterdir() if p.suffix == ".log")


def contents(store: KvStore) -> dict[bytes, bytes]:
    return {k: store.get(k) for k in store.keys()}  # type: ignore[misc]


def zero_heavy_values(n: int) -> dict[bytes, bytes]:
    """Values full of zero bytes: leading, inner, trailing, all zeros, empty; a key too."""
    shapes = [
        lambda i: b"\0" * (i % 50 + 1),
        lambda i: b"v%d" % i + b"\0" * 40,
        lambda i: b"\0" * 30 + b"x" + b"\0" * 30,
        lambda i: b"",
        lambda i: bytes(range(256)) * (i % 3),
    ]
    data = {b"": b""}  # the smallest record: its header is still not all zeros
    for i in range(n):
        key = b"k\0%d" % i if i % 7 == 0 else b"k%d" % i
        data[key] = shapes[i % len(shapes)](i)
    return data


# ------------------------------------------------------------ preallocation itself


def test_the_log_is_zero_filled_ahead_and_stats_count_records_only(tmp_path: Path) -> None:
    s = KvStore.open(tmp_path, prealloc=CHUNK, auto_compact=False)
    records = 0
    for i in range(100):
        s.set(b"k%d" % i, b"v" * 50)
        records += len(encode_record(b"k%d" % i, b"v" * 50))
        length = os.path.getsize(the_log(tmp_path))
        assert length % 4096 == 0 and length > s._active.size == records
    assert s.stats()["total_bytes"] == records  # the log's bytes, not the file's length
    with open(the_log(tmp_path), "rb") as fh:
        fh.seek(records)
        assert set(fh.read()) == {0}
    s.close()
    assert os.path.getsize(the_log(tmp_path)) == records  # a clean close trims the zeros


def test_policies_default_to_preallocating_only_where_they_fsync(tmp_path: Path) -> None:
    for fsync, expect in [("always", PREALLOC_CHUNK), ("batch", PREALLOC_CHUNK), ("never", 0)]:
        with KvStore.open(tmp_path / fsync, fsync=fsync) as s:
            s.set(b"a", b"1")
            assert s._active.prealloc == expect
            length = os.path.getsize(the_log(tmp_path / fsync))
            ahead = -(-(s._active.size + (1 << 16)) // 4096) * 4096  # 64 KiB, to a page
            assert length == (ahead if expect else s._active.size)
    with pytest.raises(KvsError, match="prealloc"):
        KvStore.open(tmp_path / "bad", prealloc=-1)


def test_a_full_disk_while_writing_zeros_ahead_leaves_plain_appends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    s = KvStore.open(tmp_path, prealloc=CHUNK)
    real = os.pwrite
    calls = []

    def full(fd: int, data: bytes, offset: int) -> int:
        calls.append(offset)
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        return real(fd, data, offset)

    monkeypatch.setattr(store_module.os, "pwrite", full)  # the zero fill, not the appends
    s.set(b"a", b"1" * (PREALLOC_CHUNK + 10))  # the fill fails after its first 1 MiB
    monkeypatch.undo()
    assert len(calls) >= 2 and "cannot preallocate" in caplog.text
    assert os.path.getsize(the_log(tmp_path)) == s._active.size  # nothing left over
    s.set(b"b", b"2")
    crash(s)
    with KvStore.open(tmp_path) as again:
        assert contents(again) == {b"a": b"1" * (PREALLOC_CHUNK + 10), b"b": b"2"}


# ------------------------------------------------------------------------ recovery


@pytest.mark.parametrize("fsync", ["always", "batch"])
def test_recovery_finds_the_end_inside_the_zero_tail(tmp_path: Path, fsync: str) -> None:
    data = zero_heavy_values(300)
    s = KvStore.open(tmp_path, fsync=fsync, prealloc=CHUNK, auto_compact=False)
    for k, v in data.items():
        s.set(k, v)
    s.remove(b"k1")
    del data[b"k1"]
    end = s._active.size
    s._fsync(s._active)
    crash(s)
    assert os.path.getsize(the_log(tmp_path)) > end  # the zeros are there at recovery
    with KvStore.open(tmp_path, fsync=fsync, prealloc=CHUNK) as again:
        assert contents(again) == data
        assert again._active.size == end
        assert os.path.getsize(the_log(tmp_path)) == end  # opening cut the zeros
        again.set(b"after", b"\0\0")
    with KvStore.open(tmp_path) as third:  # the new write went right after the old end
        assert third.get(b"after") == b"\0\0" and third._active.size == end + len(
            encode_record(b"after", b"\0\0")
        )


def test_a_store_without_preallocation_reads_a_log_with_zeros(tmp_path: Path) -> None:
    s = KvStore.open(tmp_path, prealloc=CHUNK)
    s.set(b"a", b"1\0")
    crash(s)
    with KvStore.open(tmp_path, fsync="never") as again:  # prealloc 0
        assert contents(again) == {b"a": b"1\0"}
        again.set(b"b", b"2")
    with KvStore.open(tmp_path) as third:
        assert contents(third) == {b"a": b"1\0", b"b": b"2"}


@pytest.mark.parametrize("kept", [1, 5, HEADER.size, HEADER.size + 3, "all-but-one"])
def test_a_torn_record_before_the_zeros_is_cut(
    tmp_path: Path, kept: int | str, caplog: pytest.LogCaptureFixture
) -> None:
    """A power loss in the last, unsynced turn: part of its record reached the zeros."""
    s = KvStore.open(tmp_path, prealloc=CHUNK)
    s.set(b"a", b"1\0\0")
    s.set(b"b", b"\0")
    durable = s._active.size
    crash(s)
    record = encode_record(b"c", b"3" * 50)
    torn = record[: len(record) - 1 if kept == "all-but-one" else kept]  # type: ignore[operator]
    with open(the_log(tmp_path), "r+b") as fh:
        fh.seek(durable)
        fh.write(torn)
    with KvStore.open(tmp_path) as again:
        assert contents(again) == {b"a": b"1\0\0", b"b": b"\0"}
        assert again._active.size == durable == os.path.getsize(the_log(tmp_path))
        again.set(b"d", b"4")
    assert f"cutting torn tail of {the_log(tmp_path)} at offset {durable}" in caplog.text
    with KvStore.open(tmp_path) as third:
        assert contents(third) == {b"a": b"1\0\0", b"b": b"\0", b"d": b"4"}


def test_a_torn_turn_whose_first_page_never_reached_the_disk_is_cut(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Pages of an unsynced write may reach the disk out of order: zeros where the record
    starts, its later bytes further on. No valid record follows, so it is a torn tail."""
    s = KvStore.open(tmp_path, prealloc=CHUNK)
    s.set(b"a", b"1")
    durable = s._active.size
    crash(s)
    record = encode_record(b"c", b"3" * 300)
    with open(the_log(tmp_path), "r+b") as fh:
        fh.seek(durable + 100)
        fh.write(record[100:])
    with KvStore.open(tmp_path) as again:
        assert contents(again) == {b"a": b"1"}
        assert os.path.getsize(the_log(tmp_path)) == durable
    assert "cutting torn tail" in caplog.text


def test_a_corrupt_byte_in_the_zero_tail_is_reported_in_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A non-zero byte far into the zeros is not the end of the log and not ignored: it
    is reported (file, offset of the end, offset of the byte) and cut, as any torn tail."""
    s = KvStore.open(tmp_path, prealloc=CHUNK)
    s.set(b"a", b"1")
    end = s._active.size
    crash(s)
    with open(the_log(tmp_path), "r+b") as fh:
        fh.seek(end + 2000)
        fh.write(b"\x5a")
    with caplog.at_level(logging.WARNING):
        with KvStore.open(tmp_path) as again:
            assert contents(again) == {b"a": b"1"}
    (line,) = [r.getMessage() for r in caplog.records if "torn tail" in r.getMessage()]
    assert "\n" not in line
    assert f"at offset {end}" in line and f"non-zero bytes up to offset {end + 2001}" in line
    with open(the_log(tmp_path), "rb") as fh:
        assert b"\x5a" not in fh.read()[end:]


def test_zeros_in_the_middle_with_records_after_are_corruption(tmp_path: Path) -> None:
    """A zeroed stretch (a lost sector) before valid records: a recovery taking the first
    zero header for the end would silently drop the records after it."""
    s = KvStore.open(tmp_path, prealloc=CHUNK)
    for i in range(20):
        s.set(b"k%d" % i, b"v%d" % i)
    crash(s)
    offset = 5 * len(encode_record(b"k0", b"v0"))
    with open(the_log(tmp_path), "r+b") as fh:
        fh.seek(offset)
        fh.write(bytes(HEADER.size + 2))  # k5's record, zeroed
    with pytest.raises(KvsError) as err:
        KvStore.open(tmp_path)
    message = str(err.value)
    assert "\n" not in message
    assert re.search(rf"corrupt record in .*{the_log(tmp_path).name} at offset {offset}", message)


def test_an_older_generation_with_zeros_ends_there_and_garbage_after_them_is_corruption(
    tmp_path: Path,
) -> None:
    """Compaction trims the frozen log, but a crash could leave zeros on an older file."""
    gen1 = encode_record(b"a", b"\0\0") + encode_record(b"b", b"2")
    (tmp_path / "engine").write_text("kvs\n")
    (tmp_path / "0000000001.log").write_bytes(gen1 + bytes(CHUNK))
    (tmp_path / "0000000003.log").write_bytes(encode_record(b"c", b"3"))
    with KvStore.open(tmp_path) as s:
        assert contents(s) == {b"a": b"\0\0", b"b": b"2", b"c": b"3"}
        assert s._files[1].size == len(gen1)
        assert s.stats()["total_bytes"] == len(gen1) + len(encode_record(b"c", b"3"))
    (tmp_path / "0000000001.log").write_bytes(gen1 + bytes(100) + b"\x01" + bytes(100))
    with pytest.raises(KvsError, match=rf"at offset {len(gen1)} \(older generation\)"):
        KvStore.open(tmp_path)


# ------------------------------------------------- known-bad recoveries get caught


def _ends_at_first_zero_byte(buf: bytes) -> int:
    """Mutant: the log ends at its first zero byte (values hold zeros)."""
    i = buf.find(b"\0")
    return len(buf) if i < 0 else i


def _ends_at_last_non_zero_byte(buf: bytes) -> int:
    """Mutant: the log ends after its last non-zero byte (a last value may end in zeros)."""
    return len(buf.rstrip(b"\0"))


def _ends_at_first_zero_header(buf: bytes) -> int:
    """Mutant: the log ends at the first header's worth of zeros, whatever follows."""
    i = buf.find(bytes(HEADER.size))
    return len(buf) if i < 0 else i


def _recovers_zero_heavy_values(tmp_path: Path) -> bool:
    data = zero_heavy_values(60)
    data[b"last"] = b"tail\0\0\0\0"  # the log's last bytes are zeros before the zero tail
    s = KvStore.open(tmp_path, prealloc=CHUNK)
    for k, v in data.items():
        s.set(k, v)
    crash(s)
    try:
        with KvStore.open(tmp_path) as again:
            return contents(again) == data
    except KvsError:
        return False


def _reports_zeroed_middle(tmp_path: Path) -> bool:
    s = KvStore.open(tmp_path, prealloc=CHUNK)
    for i in range(20):
        s.set(b"k%d" % i, b"v%d" % i)
    crash(s)
    with open(the_log(tmp_path), "r+b") as fh:
        fh.seek(5 * len(encode_record(b"k0", b"v0")))
        fh.write(bytes(HEADER.size))
    try:
        KvStore.open(tmp_path).close()
    except KvsError:
        return True
    return False


CHECKS = [_recovers_zero_heavy_values, _reports_zeroed_middle]


@pytest.mark.parametrize("check", CHECKS, ids=lambda f: f.__name__)
def test_the_real_recovery_passes_the_checks(tmp_path: Path, check) -> None:  # noqa: ANN001
    assert check(tmp_path)


@pytest.mark.parametrize(
    ("mutant", "check"),
    [
        (_ends_at_first_zero_byte, _recovers_zero_heavy_values),
        (_ends_at_last_non_zero_byte, _recovers_zero_heavy_values),
        (_ends_at_first_zero_header, _recovers_zero_heavy_values),
        (_ends_at_first_zero_header, _reports_zeroed_middle),
    ],
    ids=["first-zero-byte-loses-values", "last-non-zero-byte-loses-the-last-value",
         "first-zero-header-loses-values", "first-zero-header-hides-corruption"],
)  # fmt: skip
def test_a_recovery_stopping_early_in_zeros_fails_the_same_checks(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mutant,
    check,  # noqa: ANN001
) -> None:
    """Known-bad beside known-good: replay reading only up to the mutant's end of log."""
    real = KvStore._replay_buffer

    def replay_to_mutant_end(self: KvStore, f: object, buf: object, newest: bool):  # noqa: ANN202
        whole = bytes(buf)  # type: ignore[call-overload]
        return real(self, f, whole[: mutant(whole)], newest)  # type: ignore[arg-type]

    monkeypatch.setattr(KvStore, "_replay_buffer", replay_to_mutant_end)
    assert not check(tmp_path)


# ---------------------------------------------------------------------- compaction


def test_compaction_across_the_preallocated_region(tmp_path: Path) -> None:
    s = KvStore.open(tmp_path, prealloc=CHUNK, auto_compact=False)
    expect: dict[bytes, bytes] = {}
    for i in range(600):  # many chunks; most records overwritten
        key, value = b"k%d" % (i % 40), b"%d\0" % i * 5
        s.set(key, value)
        expect[key] = value
    frozen = s._active
    assert os.path.getsize(frozen.path) > frozen.size  # zeros ahead when it freezes
    s.compact()
    assert not frozen.path.exists()
    assert contents(s) == expect
    stats = s.stats()
    assert (
        stats["total_bytes"]
        == stats["live_bytes"]
        == sum(len(encode_record(k, v)) for k, v in expect.items())
    )
    for i in range(100):  # the new active log preallocates too
        s.set(b"n%d" % i, b"\0" * 20)
        expect[b"n%d" % i] = b"\0" * 20
    assert os.path.getsize(s._active.path) > s._active.size
    crash(s)
    with KvStore.open(tmp_path, prealloc=CHUNK) as again:
        assert contents(again) == expect


def test_the_frozen_log_is_trimmed_before_its_fsync(tmp_path: Path) -> None:
    s = KvStore.open(tmp_path, prealloc=CHUNK, auto_compact=False)
    for i in range(50):
        s.set(b"k%d" % i, b"v")
    old = s._active
    s.compact()
    for i in range(5):
        s.set(b"k%d" % i, b"w")
    crash(s)  # the new active log keeps its zeros; the compacted one has none
    logs = sorted(p for p in tmp_path.iterdir() if p.suffix == ".log")
    assert len(logs) == 2 and not old.path.exists()
    with open(logs[0], "rb") as fh:
        assert fh.read()[-1:] != b"\0"  # the compacted copy ends at its last record
    with KvStore.open(tmp_path) as again:
        assert again.get(b"k0") == b"w" and again.get(b"k49") == b"v"


def test_automatic_compaction_with_small_chunks_keeps_every_write(tmp_path: Path) -> None:
    s = KvStore.open(tmp_path, prealloc=CHUNK, compact_threshold=4096)
    expect = {}
    for i in range(3000):
        key, value = b"k%d" % (i % 25), b"\0%d" % i
        s.set(key, value)
        expect[key] = value
    s.close()  # waits for a running compaction
    assert s.compactions >= 1
    with KvStore.open(tmp_path) as again:
        assert contents(again) == expect


# ------------------------------------------------------- a real server, SIGKILLed


LISTENING = re.compile(rb"listening on 127\.0\.0\.1:(\d+)")


def _start_server(tmp_path: Path, data_dir: Path) -> tuple[subprocess.Popen[bytes], int]:
    log = tmp_path / "server.log"
    cmd = [
        sys.executable, "-m", "distlab.systems.kvs.server", "--addr", "127.0.0.1:0",
        "--engine", "kvs", "--dir", str(data_dir), "--fsync", "always",
    ]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        m = LISTENING.search(log.read_bytes())
        if m:
            return proc, int(m.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    proc.kill()
    proc.wait(10)
    pytest.fail(f"kvs-server did not start:\n{log.read_text(errors='replace')}")


def _resp_set(key: bytes, value: bytes) -> bytes:
    return b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(value), value)


@pytest.mark.timeout(60)
def test_sigkill_of_a_real_server_loses_no_acknowledged_set(tmp_path: Path) -> None:
    """Eight clients (pipelines of 1 to 5 SETs), zero-heavy values; SIGKILL after 1500 +OKs."""
    data_dir = tmp_path / "data"
    proc, port = _start_server(tmp_path, data_dir)
    acked: dict[bytes, bytes] = {}
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []

    def client(c: int) -> None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                i = 0
                while not stop.is_set():
                    batch = [
                        (b"c%d\0k%d" % (c, i + j), b"\0" * (i % 9) + b"%d" % i + b"\0" * (j * 7))
                        for j in range(1 + i % 5)
                    ]
                    i += len(batch)
                    sock.sendall(b"".join(_resp_set(k, v) for k, v in batch))
                    got = b""
                    while len(got) < 5 * len(batch):
                        chunk = sock.recv(65536)
                        if not chunk:
                            return  # killed
                        got += chunk
                    assert got == b"+OK\r\n" * len(batch), got
                    with lock:
                        acked.update(batch)
        except (ConnectionError, TimeoutError, OSError):
            return  # the server was killed under us
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(c,), daemon=True) for c in range(8)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with lock:
                if len(acked) >= 1500:
                    break
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        with lock:
            snapshot = dict(acked)  # every +OK read before the kill
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    for t in threads:
        t.join(10)
    assert not errors, errors
    assert len(snapshot) >= 1500
    log_path = the_log(data_dir)
    with open(log_path, "rb") as fh:
        raw = fh.read()
    assert len(raw) % 4096 == 0 and raw.endswith(bytes(64))  # a zero tail at the kill
    with KvStore.open(data_dir) as s:
        assert {k: s.get(k) for k in snapshot} == snapshot


def test_the_region_ahead_starts_at_64_kib_and_doubles_up_to_the_chunk(tmp_path: Path) -> None:
    """A one-shot writer (``kvs set``) pays for 64 KiB of zeros; a busy log gets whole chunks."""
    s = KvStore.open(tmp_path, fsync="never", prealloc=PREALLOC_CHUNK, auto_compact=False)
    grown = []  # (bytes of zeros ahead of the record that grew the file, the step taken)
    length = 0
    for i in range(3000):
        s.set(b"k%d" % i, b"v" * 1000)
        new_length = os.path.getsize(the_log(tmp_path))
        if new_length != length:
            grown.append((new_length - s._active.size, s._active.ahead))
            length = new_length
    steps = [step for _, step in grown]
    assert steps[:6] == [1 << 16, 1 << 17, 1 << 18, 1 << 19, 1 << 20, 1 << 20]
    assert set(steps[5:]) == {PREALLOC_CHUNK}
    assert all(step <= ahead < step + 4096 for ahead, step in grown)
    s.close()
