"""The kvs engine's fail points force the races a kill -9 only hits by luck.

A ``panic`` at a fail point stands for the process dying there: the test then drops the
store's descriptors and lock without close()'s fsync (``crash``), and may also take away
bytes the disk never promised to keep (``power_loss``: cut the newest log back to what the
last fdatasync covered, plus a torn part of what followed). A ``return(msg)`` stands for the
disk failing that step with EIO. After each, the store must reopen clean and hold exactly
the acknowledged data (and, for the one write in flight, all of it or none of it).
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from distlab import fail
from distlab.fail import FailPointPanic, FailScenario
from distlab.systems.kvs import KvsError, KvStore
from distlab.systems.kvs.store import FAIL_POINTS, encode_record

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def scenario():
    with FailScenario(environ={}):
        yield


def crash(store: KvStore) -> None:
    """The process died: descriptors and the flock go, nothing more is written or synced."""
    store._release()


def newest_log(path: Path) -> Path:
    return max(p for p in path.iterdir() if p.suffix == ".log")


def contents(store: KvStore) -> dict[bytes, bytes]:
    return {k: store.get(k) for k in store.keys()}  # type: ignore[misc]


# --------------------------------------------------------------------- fsync windows


@pytest.mark.parametrize("kept", [0, 1, 9, "all-but-one"])
def test_crash_between_write_and_fsync_loses_only_the_unsynced_write(tmp_path, kept):
    store = KvStore.open(tmp_path)
    store.set(b"a", b"1")
    store.set(b"b", b"2")
    durable = store._active.size  # both sets returned: fsynced (the zeros after are not log)
    fail.cfg("kvs_before_fsync", "panic")
    with pytest.raises(FailPointPanic):
        store.set(b"c", b"3" * 50)
    crash(store)
    # Power loss: the OS had c's record but never wrote all of it to the disk.
    record = len(encode_record(b"c", b"3" * 50))
    torn = record - 1 if kept == "all-but-one" else kept
    os.truncate(newest_log(tmp_path), durable + torn)
    fail.teardown()
    with KvStore.open(tmp_path) as again:  # a torn tail is cut, never called corruption
        assert contents(again) == {b"a": b"1", b"b": b"2"}
        assert newest_log(tmp_path).stat().st_size == durable
        again.set(b"d", b"4")
    with KvStore.open(tmp_path) as third:
        assert contents(third) == {b"a": b"1", b"b": b"2", b"d": b"4"}


def test_process_crash_before_fsync_keeps_the_write_the_kernel_holds(tmp_path):
    store = KvStore.open(tmp_path)
    store.set(b"a", b"1")
    fail.cfg("kvs_before_fsync", "panic")
    with pytest.raises(FailPointPanic):
        store.set(b"c", b"3")
    crash(store)  # no power loss: the page cache reaches the disk later
    fail.teardown()
    with KvStore.open(tmp_path) as again:
        assert contents(again) == {b"a": b"1", b"c": b"3"}


def test_crash_after_fsync_before_the_ack_keeps_the_write_through_power_loss(tmp_path):
    store = KvStore.open(tmp_path)
    store.set(b"a", b"1")
    synced: list[int] = []

    def die_after_fsync() -> None:
        synced.append(store._active.size)  # the log's end, not the zeros written ahead
        raise FailPointPanic("died before acknowledging")

    fail.cfg_callback("kvs_after_fsync", die_after_fsync)
    with pytest.raises(FailPointPanic):
        store.set(b"c", b"3")
    crash(store)
    os.truncate(newest_log(tmp_path), synced[0])  # power loss keeps what the fsync covered
    fail.teardown()
    with KvStore.open(tmp_path) as again:
        assert contents(again) == {b"a": b"1", b"c": b"3"}


def test_failed_fsync_fails_the_write_and_fences_the_store(tmp_path):
    store = KvStore.open(tmp_path)
    store.set(b"a", b"1")
    fail.cfg("kvs_before_fsync", "1*return(disk gone)")
    with pytest.raises(KvsError, match="disk gone"):
        store.set(b"b", b"2")
    # After a failed fsync nothing more is acknowledged (the page cache may have lost it).
    with pytest.raises(KvsError, match="refuses writes after a failed sync"):
        store.set(b"c", b"3")
    assert store.get(b"a") == b"1"
    crash(store)
    with KvStore.open(tmp_path) as again:
        assert again.get(b"a") == b"1" and again.get(b"c") is None
        again.set(b"c", b"3")


def test_pause_before_fsync_holds_every_writer_until_released(tmp_path):
    """Group commit under a stalled disk: writers queue behind the paused fsync, none
    returns early, and one fsync acknowledges them all once the disk answers."""
    store = KvStore.open(tmp_path)
    fail.cfg("kvs_before_fsync", "1*pause->off")
    done: queue.Queue[bytes] = queue.Queue()

    def writer(key: bytes) -> None:
        store.set(key, b"v")
        done.put(key)

    first = threading.Thread(target=writer, args=(b"k0",))
    first.start()
    while not store._syncing:  # the first writer is inside the fsync window
        threading.Event().wait(0.005)
    others = [threading.Thread(target=writer, args=(b"k%d" % i,)) for i in range(1, 4)]
    for t in others:
        t.start()
    with pytest.raises(queue.Empty):
        done.get(timeout=0.3)
    assert store.get(b"k3") == b"v"  # visible before durable, as documented
    fsyncs = store.fsyncs
    fail.cfg("kvs_before_fsync", "off")
    for t in [first, *others]:
        t.join(5)
    assert sorted(done.queue) == [b"k0", b"k1", b"k2", b"k3"]
    assert store.fsyncs - fsyncs <= 2  # the paused one, then one for everyone queued
    store.close()


# --------------------------------------------------------------------- compaction


COMPACTION_POINTS = [n for n in FAIL_POINTS if n.startswith("kvs_compact_")]


def fill(store: KvStore, model: dict[bytes, bytes], gens: int = 3) -> None:
    """Several generations with overwrites and deletes, so compaction has tombstones to
    drop and old values that a wrong deletion order would bring back."""
    for g in range(gens):
        for i in range(20):
            key = b"k%02d" % i
            if (i + g) % 5 == 0 and key in model:
                store.remove(key)
                del model[key]
            else:
                store.set(key, b"g%d-%d" % (g, i))
                model[key] = b"g%d-%d" % (g, i)
        # compact between rounds: the next compaction then has an older generation
        # holding values and a newer one holding tombstones and overwrites
        if g < gens - 1:
            store.compact()


def more_writes(store: KvStore, model: dict[bytes, bytes], first: int = 0) -> None:
    for i in range(first, 20, 3):
        key = b"k%02d" % i
        if key in model:
            store.remove(key)
            del model[key]
        else:
            store.set(key, b"late-%d" % i)
            model[key] = b"late-%d" % i


def test_every_compaction_window_has_a_fail_point():
    assert COMPACTION_POINTS == [
        "kvs_compact_before_copy",
        "kvs_compact_before_rename",
        "kvs_compact_before_switch",
        "kvs_compact_before_delete",
        "kvs_compact_between_deletes",
    ]


@pytest.mark.parametrize("point", COMPACTION_POINTS)
def test_compaction_error_leaves_a_consistent_store(tmp_path, point):
    """EIO inside compaction: the store keeps serving the same data; a later compaction
    and a reopen still hold exactly the model (no deleted key comes back)."""
    store = KvStore.open(tmp_path, auto_compact=False)
    model: dict[bytes, bytes] = {}
    fill(store, model)
    fail.cfg(point, "return(no space left)")
    with pytest.raises(KvsError, match="no space left"):
        store.compact()
    assert store.compaction_failures == 1
    assert contents(store) == model
    fail.remove(point)
    more_writes(store, model)
    assert contents(store) == model
    store.compact()
    more_writes(store, model, first=1)  # other keys: what was deleted above stays deleted
    store.compact()
    assert contents(store) == model
    store.close()
    with KvStore.open(tmp_path) as again:
        assert contents(again) == model
    assert not list(tmp_path.glob("*.compact"))


@pytest.mark.parametrize("point", COMPACTION_POINTS)
def test_crash_inside_compaction_reopens_with_the_same_data(tmp_path, point):
    store = KvStore.open(tmp_path, auto_compact=False)
    model: dict[bytes, bytes] = {}
    fill(store, model)
    fail.cfg(point, "panic")
    with pytest.raises(FailPointPanic):
        store.compact()
    crash(store)
    fail.teardown()
    again = KvStore.open(tmp_path, auto_compact=False)
    assert contents(again) == model
    assert not list(tmp_path.glob("*.compact"))
    more_writes(again, model)
    again.compact()
    again.close()
    with KvStore.open(tmp_path) as third:
        assert contents(third) == model


def test_background_compaction_failure_is_recorded_and_data_kept(tmp_path):
    store = KvStore.open(tmp_path, compact_threshold=1)
    fail.cfg("kvs_compact_before_switch", "1*return(bad sector)")
    model = {}
    for i in range(200):
        store.set(b"k%d" % (i % 7), b"v%d" % i)
        model[b"k%d" % (i % 7)] = b"v%d" % i
    store.close()  # joins the compaction thread
    assert store.compaction_failures >= 1
    assert "bad sector" in str(store.last_compaction_error) or store.compactions > 0
    with KvStore.open(tmp_path) as again:
        assert contents(again) == model


def test_counters_for_metrics(tmp_path):
    store = KvStore.open(tmp_path, auto_compact=False)
    seen: list[float] = []
    store.on_fsync = seen.append
    store.set(b"a", b"1")
    store.remove(b"a")
    assert store.bytes_written == len(encode_record(b"a", b"1")) + len(encode_record(b"a", b""))
    assert store.fsyncs == 2 and len(seen) == 2 and all(s >= 0 for s in seen)
    store.set(b"b", b"2")
    store.compact()
    assert store.compactions == 1
    assert store.compacted_bytes == len(encode_record(b"b", b"2"))
    store.close()


# --------------------------------------------------------------------- the kvs command


def kvs(tmp_path: Path, *args: str, failpoints: str | None = None):
    env = {k: v for k, v in os.environ.items() if k != "FAILPOINTS"}
    if failpoints is not None:
        env["FAILPOINTS"] = failpoints
    return subprocess.run(
        [sys.executable, "-m", "distlab.systems.kvs.cli", "--dir", str(tmp_path), *args],
        capture_output=True, text=True, timeout=30, env=env,
    )  # fmt: skip


def test_kvs_command_panics_at_a_fail_point_from_the_environment(tmp_path):
    assert kvs(tmp_path, "set", "a", "1").returncode == 0
    res = kvs(tmp_path, "set", "b", "2", failpoints="kvs_before_fsync=panic(power cut)")
    assert res.returncode == 101
    assert res.stderr == "kvs: fail point kvs_before_fsync panicked: power cut; exiting\n"
    assert kvs(tmp_path, "get", "a").stdout == "1\n"
    assert kvs(tmp_path, "get", "b").stdout == "2\n"  # the kernel had it; only fsync was skipped


def test_kvs_command_rejects_bad_failpoints_before_touching_the_store(tmp_path):
    res = kvs(tmp_path / "d", "set", "a", "1", failpoints="kvs_before_fsync=sleep")
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1
    assert res.stderr.startswith("error: FAILPOINTS: fail point 'kvs_before_fsync': sleep needs")
    assert not (tmp_path / "d").exists()
