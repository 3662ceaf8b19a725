"""Crash safety: SIGKILL a writer process at random moments, reopen, check every ack.

The writer runs KvStore with fsync=always in a subprocess. Before each operation it prints
``W <op>`` and after it returns ``A`` (flushing each line), so the test knows which
operations were acknowledged and which single one was in flight when the kill landed. The
kill is placed by events, not by the clock: the test reads the writer's lines until a
number of acknowledgements (and, with compactions, of finished compactions) drawn from the
seeded rng has gone by, then, half the time, waits a random few milliseconds more, so a slow or loaded machine changes when the kill
lands in wall-clock time but not how much work each run covers. After
each kill the test reopens the directory (recovery must succeed: a torn tail is cut, never
reported as corruption) and checks every key: acknowledged writes must all be there with the
right bytes, the in-flight one may or may not have happened, and nothing else is allowed —
in particular no corrupt value. The compaction variant forces a tiny threshold so kills land
before, during and after compactions.
"""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from distlab.systems.kvs import KvStore

KEYS = 40

# Shared by the writer and the checker: the bytes of value number ``n`` (size 0..3000).
VALUE_CODE = """
import hashlib
def make_value(n):
    seed = hashlib.sha256(b"%d" % n).digest()
    size = int.from_bytes(seed[:2], "little") % 3001
    return (seed * (size // 32 + 1))[:size]
"""

WRITER = (
    VALUE_CODE
    + """
import random, sys, threading
from distlab.systems.kvs import KeyNotFound, KvStore
path, seed, start, keys, threshold, fsync, threads = sys.argv[1:8]
seed, start, keys, threshold, threads = int(seed), int(start), int(keys), int(threshold), int(threads)
if threshold < 1 << 40:
    # Widen the compaction's windows so kills land inside them: copies are written in two
    # halves with a pause between, and each old file deletion is followed by a pause.
    import pathlib, time
    import distlab.systems.kvs.store as m
    write_all, unlink = m._write_all, pathlib.Path.unlink
    def slow_write_all(fd, data):
        write_all(fd, data[: len(data) // 2]); time.sleep(0.002); write_all(fd, data[len(data) // 2 :])
    def slow_unlink(self, *args, **kwargs):
        unlink(self, *args, **kwargs); time.sleep(0.002)
    m._write_all, pathlib.Path.unlink = slow_write_all, slow_unlink
store = KvStore.open(path, fsync=fsync, compact_threshold=threshold)
lock = threading.Lock()
seen = [0]
def say(line):
    with lock:
        sys.stdout.write(line + "\\n"); sys.stdout.flush()
def writer(t):
    # Thread t owns keys k<i> with i % threads == t: each key has at most one op in flight.
    rng = random.Random(seed * 1000 + t)
    mine = [i for i in range(keys) if i % threads == t]
    n = start + t
    while True:
        key = "k%d" % rng.choice(mine)
        if rng.random() < 0.15:
            say("W %d rm %s" % (t, key))
            try:
                store.remove(key.encode())
            except KeyNotFound:
                pass
        else:
            say("W %d set %s %d" % (t, key, n))
            store.set(key.encode(), make_value(n))
        say("A %d" % t)
        n += threads
        with lock:
            if store.compactions != seen[0]:
                seen[0] = store.compactions
                sys.stdout.write("C %d\\n" % seen[0]); sys.stdout.flush()
say("R")
for t in range(threads):
    threading.Thread(target=writer, args=(t,), daemon=True).start()
threading.Event().wait()
"""
)

_ns: dict[str, object] = {}
exec(VALUE_CODE, _ns)
make_value = _ns["make_value"]


def _run_once(
    path: Path,
    model: dict[str, bytes | None],
    rng: random.Random,
    start: int,
    threshold: int,
    fsync: str,
    threads: int,
    target: int,
    target_compactions: int = 0,
) -> tuple[int, int, bool]:
    """Start a writer, kill it once ``target`` acks and ``target_compactions`` compactions
    went by (plus, half the time, a few ms), check the reopened store against model.

    Returns (operations acknowledged, compactions seen, whether one was mid-flight).
    """
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            WRITER,
            str(path),
            str(rng.randrange(1 << 30)),
            str(start),
            str(KEYS),
            str(threshold),
            fsync,
            str(threads),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,  # unbuffered: communicate() reads the raw pipe after our own reads
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    try:
        head = _read_until(proc, target, target_compactions)
    except BaseException:
        proc.kill()
        proc.communicate(timeout=30)
        raise
    if rng.random() < 0.5:  # else at once: kills land right after an ack and in between
        time.sleep(rng.uniform(0.0, 0.005))
    proc.send_signal(signal.SIGKILL)
    rest, err = proc.communicate(timeout=30)  # what it wrote meanwhile: no pipe left full
    assert proc.returncode == -signal.SIGKILL, err.decode(errors="replace")[-2000:]
    out = head + rest
    assert out.startswith(b"R\n"), out[:100]
    out = out[2:]

    acked = 0
    compactions = 0
    pending: dict[str, list[str]] = {}  # thread -> its operation not yet acknowledged
    for line in out.decode().split("\n")[:-1]:  # a line without its newline was never written
        parts = line.split()
        if parts[0] == "W":
            pending[parts[1]] = parts[2:]
        elif parts[0] == "A":
            _apply(model, pending.pop(parts[1]))
            acked += 1
        elif parts[0] == "C":
            compactions = int(parts[1])

    compacting = bool(list(path.glob("*.compact"))) or len(list(path.glob("*.log"))) > 2
    allowed = {k: {v} for k, v in model.items()}
    for op in pending.values():  # in flight at the kill: either outcome is fine
        maybe = dict(model)
        _apply(maybe, op)
        allowed.setdefault(op[1], {None}).add(maybe[op[1]])
    with KvStore.open(path, auto_compact=False) as store:
        for i in range(KEYS):
            key = f"k{i}"
            got = store.get(key.encode())
            assert got in allowed.get(key, {None}), (
                f"{key}: got {None if got is None else got[:20]!r} ({len(got or b'')} bytes), "
                f"acknowledged value has {len(model.get(key) or b'')} bytes"
            )
            model[key] = got
        assert set(store.keys()) <= {f"k{i}".encode() for i in range(KEYS)}
    assert acked >= target, f"killed after {target} acks but read only {acked}"
    assert compactions >= target_compactions
    return acked, compactions, compacting


def _read_until(proc: subprocess.Popen[bytes], target: int, target_compactions: int) -> bytes:
    """Read the writer's stdout until ``target`` "A" lines (acks) went by and a "C n" line
    with n >= ``target_compactions`` (compactions finished); return all read.

    Reads in chunks (what the writer flushed so far) and counts in whole lines only.
    The writer never waits for us except on a full pipe, which these reads empty, so
    nothing deadlocks; a writer that dies or stalls fails the test with its stderr."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    data = b""
    scanned = 0  # data[:scanned] is whole lines, already counted
    acks = compactions = 0
    while True:
        ready, _, _ = select.select([fd], [], [], 60)
        chunk = os.read(fd, 1 << 16) if ready else b""
        if not chunk:
            proc.kill()
            _, err = proc.communicate(timeout=30)
            raise AssertionError(
                f"writer {'stalled' if not ready else 'exited'} after {acks} of {target} acks, "
                f"{compactions} of {target_compactions} compactions: "
                + err.decode(errors="replace")[-2000:]
            )
        data += chunk
        end = data.rfind(b"\n") + 1
        if end > scanned:
            for line in data[scanned:end].split(b"\n"):
                if line.startswith(b"A"):
                    acks += 1
                elif line.startswith(b"C "):
                    compactions = int(line[2:])
            scanned = end
            if acks >= target and compactions >= target_compactions:
                return data


def _soak(
    tmp_path: Path,
    iterations: int,
    seed: int,
    threshold: int,
    fsync: str = "always",
    threads: int = 1,
    most_acks: int = 300,
    most_compactions: int = 0,
) -> tuple[int, int, int, int, int]:
    """Run, kill and check ``iterations`` writers, each killed once a number of acks drawn
    from 1..most_acks and of compactions drawn from 0..most_compactions went by.
    Returns (acks, compactions, kills mid-compaction, acks drawn, compactions drawn)."""
    rng = random.Random(seed)
    model: dict[str, bytes | None] = {}
    total_acked = total_compactions = mid_compaction = drawn = drawn_compactions = 0
    for _ in range(iterations):
        target = rng.randint(1, most_acks)
        target_compactions = rng.randint(0, most_compactions)
        drawn += target
        drawn_compactions += target_compactions
        acked, compactions, compacting = _run_once(
            tmp_path,
            model,
            rng,
            1_000_000 * (total_acked + 1),
            threshold,
            fsync,
            threads,
            target,
            target_compactions,
        )
        total_acked += acked
        total_compactions += compactions
        mid_compaction += compacting
    return total_acked, total_compactions, mid_compaction, drawn, drawn_compactions


def test_sigkill_during_writes_loses_no_acknowledged_write(tmp_path: Path) -> None:
    acked, _, _, drawn, _ = _soak(tmp_path, iterations=20, seed=1, threshold=1 << 40)
    assert acked >= drawn > 1000  # the kills really interrupted a busy writer


def test_sigkill_during_compactions_loses_no_acknowledged_write(tmp_path: Path) -> None:
    acked, compactions, _, drawn, drawn_c = _soak(
        tmp_path, iterations=20, seed=2, threshold=16 * 1024, threads=4, most_compactions=3
    )
    assert acked >= drawn > 1000
    assert compactions >= drawn_c > 10  # the kills landed among many compactions


@pytest.mark.parametrize("fsync", ["batch", "never"])
def test_sigkill_loses_nothing_handed_to_the_os(tmp_path: Path, fsync: str) -> None:
    """A process crash (not a power loss) keeps what batch and never wrote to the OS."""
    acked, compactions, _, drawn, drawn_c = _soak(
        tmp_path, iterations=8, seed=5, threshold=16 * 1024, fsync=fsync, most_compactions=3
    )
    assert acked >= drawn > 500 and compactions >= drawn_c > 3


@pytest.mark.slow
def test_sigkill_soak(tmp_path: Path) -> None:
    acked, _, _, drawn, _ = _soak(tmp_path / "plain", iterations=150, seed=3, threshold=1 << 40)
    acked2, compactions2, mid2, drawn2, drawn_c2 = _soak(
        tmp_path / "compact",
        iterations=150,
        seed=4,
        threshold=8 * 1024,
        threads=4,
        most_compactions=4,
    )
    assert acked >= drawn > 10_000 and acked2 >= drawn2 > 10_000
    assert compactions2 >= drawn_c2 > 100
    assert mid2 > 0  # some kill left a compaction half done, and recovery coped


def _apply(model: dict[str, bytes | None], op: list[str]) -> None:
    if op[0] == "set":
        model[op[1]] = make_value(int(op[2]))  # type: ignore[operator]
    else:
        model[op[1]] = None


def test_checker_catches_a_lost_write(tmp_path: Path) -> None:
    """The check above can fail: drop an acknowledged write and it notices."""
    with KvStore.open(tmp_path) as s:
        s.set(b"k1", b"old")
    model: dict[str, bytes | None] = {"k1": b"acknowledged but lost"}
    allowed = {k: {v} for k, v in model.items()}
    with KvStore.open(tmp_path) as s:
        assert s.get(b"k1") not in allowed["k1"]
