"""KvStore: a bitcask-style log-structured engine (append-only logs + in-memory index).

Layout of a data directory::

    engine               marker: "kvs" (see engines.open_engine)
    kvs.lock             flock'ed while a process has the store open
    0000000001.log ...   generations, replayed in numeric order; writes append to the newest
    0000000007.compact   a compaction in progress (deleted on open if a crash left it)

A record is ``crc32 u32 | flags u8 | key_len u32 | value_len u32 | key | value`` (little
endian); the CRC covers everything after itself, ``flags`` bit 0 marks a tombstone. The index
maps key -> (file, offset, length) of its latest record.

Opening replays every generation and checks every CRC. A bad record in the newest file with
no valid record after it is a torn tail left by a crash (even a complete last record whose CRC
fails: a crash can leave a record's length on disk without its bytes): it is cut off (the file
is truncated) and the store opens. A bad record with valid data after it, or any bad record in
an older generation, is corruption: ``open`` raises KvsError naming the file and offset;
``open(..., repair=True)`` instead cuts the newest file at its first bad record, dropping what
follows (logged). ``get`` re-checks the CRC (and key) of the record it reads and raises rather
than return bad bytes.

Preallocation (``prealloc``; on by default under the always and batch policies): the active
log is kept zero-filled ahead of its last record (64 KiB at first, doubling up to 1 MiB), so
an fdatasync flushes the data without committing a new file length. The log's end is then
its last record, not the file's length (``size`` vs ``allocated`` of a file; stats count
records). No record starts with a header of zeros (the CRC of zero flags and lengths is not
zero), so zeros from a failed parse to the end of the file are the clean end; zeros with
anything after them are judged as above (torn tail or corruption), never taken for the end.
Values may hold zeros: only a record boundary can end the log. A clean close, the freeze of
a compaction and opening cut the zeros off (the first append writes them again).

Durability (the ``fsync`` policy):

* ``always`` (default): set/remove returns only after the record is fdatasync'ed. A write
  that returned survives a process crash, a kernel crash or a power loss (given a disk that
  honours flushes); one that did not return is either wholly present or absent after
  recovery. Concurrent writers share fsyncs (group commit): the record is appended and
  indexed under the write lock, then each writer waits outside the lock until one fdatasync
  has covered its record. So, as in Redis with ``appendfsync always``, a reader may see a
  write a moment before it is durable and acknowledged; only a power loss or kernel crash in
  that moment can take such a write back (a process crash cannot: the kernel holds it).
* ``batch``: a background thread fdatasyncs every ``batch_ms`` milliseconds (default 10), and
  at once after ``batch_writes`` unsynced writes (default 1000). A process crash loses
  nothing that returned; a power loss loses at most the writes acknowledged since the last
  completed sync (that window), and recovery cuts the torn tail (if the OS wrote that
  window's pages out of order, ``open`` may find a hole and report corruption; see repair).
* ``never``: data goes to the OS page cache and is fsynced only by close() and compaction. A
  process crash (SIGKILL included) loses nothing that returned, since the kernel holds it;
  a power loss or kernel crash may lose any unsynced write, and may leave a hole that
  ``open`` reports as corruption instead of a clean tail.

Concurrency: one lock serialises writers (set, remove, the start and the switch of a
compaction). Readers take no lock: ``get`` reads the index entry (a tuple swapped atomically
under the GIL) and reads the record from the file object that entry holds, through a
read-only map of the file (no syscall) or, past the map's end, with ``os.pread``, so no
file position is shared. Compaction copies live records to a new generation in a background thread while
readers and writers carry on: at its start, under the lock, it fsyncs the active file and
opens a fresh active generation (N+2) for new writes; it then copies, without the lock, every
record the index pointed to into generation N+1 (written as ``.compact``, fsynced, renamed to
``.log``); then, under the lock for one pass over the copied keys, it repoints each key that was
not written meanwhile. Old files are unlinked oldest first (so a crash mid-way never drops a
tombstone while keeping the value it deleted); a reader that already holds an old file object
keeps reading it, since its descriptor stays open until the last reference goes. A compaction
that fails part-way leaves the store serving the same data: a copy that never went live is
deleted, and old files it could not delete are deleted first by the next compaction.

Fail points (:mod:`distlab.fail`, listed in ``FAIL_POINTS``) name the windows where a crash or
an I/O error matters: around each fdatasync of the active log and between the steps of a
compaction; ``tests/test_kvs_failpoints.py`` uses them to crash or fail the store exactly there.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import mmap
import os
import struct
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distlab.fail import FailPointPanic, fail_return
from distlab.systems.kvs.engines import (
    FSYNC_POLICIES,
    KeyNotFound,
    KvsError,
    claim_directory,
    fsync_dir,
)

__all__ = ["FAIL_POINTS", "HEADER", "KvStore", "encode_record"]

# Fail points (distlab.fail) at the windows where a crash or an error matters. ``return(msg)``
# at any of them makes the step fail with EIO (msg as the error text), as a bad disk would.
FAIL_POINTS = {
    "kvs_before_fsync": "a write is in the file (the OS has it) but not yet fdatasync'ed",
    "kvs_after_fsync": "the fdatasync returned; the writes it covered are not yet acknowledged",
    "kvs_compact_before_copy": "compaction froze the old files and opened the next active one",
    "kvs_compact_before_rename": "the live records are copied and fsynced as NNN.compact",
    "kvs_compact_before_switch": "the copy is renamed to NNN.log; the index still points "
    "at the old files",
    "kvs_compact_before_delete": "the index points at the copy; no old file deleted yet",
    "kvs_compact_between_deletes": "after each old file's unlink but the last (oldest first)",
}

log = logging.getLogger(__name__)

HEADER = struct.Struct("<IBII")  # crc32, flags, key_len, value_len
_BODY_HEADER = struct.Struct("<BII")
TOMBSTONE = 1
_LOCK_FILE = "kvs.lock"
_COPY_CHUNK = 1 << 20
_fdatasync = getattr(os, "fdatasync", os.fsync)
# Bound once: set and get run per request in kvs-server, where lookups add up.
_pack_body = _BODY_HEADER.pack
_pack_crc = struct.Struct("<I").pack
_unpack_header = HEADER.unpack_from
_crc32 = zlib.crc32
_pread = os.pread
_pwrite = os.pwrite
# get() reads through a map of the log file; after this many reads past the map (records
# written since it was made) it is redone: often enough that a read-mostly store maps
# everything, rarely enough that reads right behind writes do not remap each time.
_REMAP_AFTER = 64
# Preallocation (fsync always and batch): the active log is kept zero-filled this far ahead of
# its last record, so the fdatasync of a write inside that region flushes data only; a write
# that grows the file must also commit the new size (a metadata journal commit on ext4).
# Measured on this project's machine (ext4): fdatasync after an append ~200 us, after a
# write into written zeros ~140 us; about 6% of a durable SET under redis-benchmark. Zeros
# are written, not fallocate'd: an fallocate'd extent is "unwritten" and converting it at
# the first write is itself a metadata commit. The chunk bounds the stall of writing it
# (~1.3 ms for 1 MiB, plus its flush by the next fdatasync; ~140 ms for 64 MiB) and the
# zeros a recovery scans past. A freshly opened log starts with 64 KiB ahead and doubles up to
# the chunk, so a one-shot ``kvs set`` writes 64 KiB of zeros, not a whole chunk.
PREALLOC_CHUNK = 1 << 20
_FIRST_AHEAD = 1 << 16
_PAGE = 4096
_ZEROS = bytes(PREALLOC_CHUNK)


def _fail_io(name: str) -> None:
    """Evaluate fail point ``name``; its ``return(msg)`` becomes an I/O error (EIO)."""
    r = fail_return(name)
    if r is not None:
        raise OSError(errno.EIO, r.arg or f"I/O error injected by fail point {name}")


def encode_record(key: bytes, value: bytes, flags: int = 0) -> bytes:
    """One log record: header with CRC32 over flags, lengths, key and value."""
    if len(value) < 4096:  # small (the common case): one CRC pass over one small copy
        body = _pack_body(flags, len(key), len(value)) + key + value
        return _pack_crc(_crc32(body)) + body
    body_header = _pack_body(flags, len(key), len(value))
    crc = _crc32(value, _crc32(key, _crc32(body_header)))
    return b"".join((_pack_crc(crc), body_header, key, value))


def _data_end(buf: Any, end: int) -> int:
    """Offset just past the last non-zero byte of ``buf[:end]`` (0 if it is all zeros)."""
    if end == 0 or buf[end - 1] != 0:
        return end
    hi = end
    while hi > 0:
        lo = max(0, hi - _COPY_CHUNK)
        kept = bytes(buf[lo:hi]).rstrip(b"\0")
        if kept:
            return lo + len(kept)
        hi = lo
    return 0


def _parse(buf: Any, pos: int, end: int) -> tuple[int, int, int, str | None]:
    """Check the record at ``pos``: (flags, key_len, record_len, None) or (.., reason)."""
    if end - pos < HEADER.size:
        return 0, 0, 0, "truncated header"
    crc, flags, klen, vlen = HEADER.unpack_from(buf, pos)
    if flags > TOMBSTONE:
        return 0, 0, 0, "bad flags"
    rlen = HEADER.size + klen + vlen
    if rlen > end - pos:
        return 0, 0, 0, "record runs past end of file"
    if zlib.crc32(memoryview(buf)[pos + 4 : pos + rlen]) != crc:
        return 0, 0, 0, "CRC mismatch"
    return flags, klen, rlen, None


def _valid_record_after(buf: Any, start: int, end: int, data_end: int) -> bool:
    """Whether any valid record starts in buf[start:end] (tells middle damage from a torn tail).

    ``data_end``: offset just past the last non-zero byte. A record's header is never all
    zeros (the CRC of zero flags and lengths is not zero), so no record starts at or after
    it, and a preallocated tail of zeros costs nothing to rule out."""
    for q in range(start, min(end - HEADER.size + 1, data_end)):
        if buf[q + 4] > TOMBSTONE:
            continue
        if _parse(buf, q, end)[3] is None:
            return True
    return False


class _LogFile:
    """One generation's file. The fd closes when the last reference (index or reader) goes."""

    __slots__ = (
        "gen", "path", "fd", "size", "allocated", "prealloc", "ahead", "synced", "_closed",
        "view", "misses",
    )  # fmt: skip

    def __init__(self, path: Path, gen: int, writable: bool) -> None:
        flags = (os.O_RDWR | os.O_CREAT) if writable else os.O_RDONLY
        self.gen = gen
        self.path = path
        self._closed = True
        self.fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o644)
        self._closed = False
        # ``size``: where the records end (the next append goes there); ``allocated``: the
        # file's length, past ``size`` when a zero-filled region was written ahead (replay
        # finds ``size`` for an existing file). ``prealloc``: the chunk to write ahead, or 0.
        self.allocated = self.size = os.fstat(self.fd).st_size
        self.prealloc = 0
        self.ahead = 0  # bytes the last preallocation wrote ahead (they double up to prealloc)
        self.synced = 0  # bytes known durable (group commit; guarded by KvStore._sync_cond)
        # For get: a read-only map of the file's first ``mapped`` bytes, as one tuple so a
        # reader never pairs a map with another map's length. Reads past it pread (and
        # count a miss); every _REMAP_AFTER misses the map is redone to the current size.
        self.view: tuple[mmap.mmap | None, int] = (None, 0)
        self.misses = 0

    def pread(self, length: int, offset: int) -> bytes:
        return os.pread(self.fd, length, offset)

    def remap(self) -> None:
        """Map the file as written so far. Safe while readers use the old map: it stays
        alive until they drop it. The file never shrinks below a mapped length (an append
        that failed is cut back to where it began, zeros written ahead to the last record;
        a map covers records only), so a mapped byte never goes away under a reader."""
        self.misses = 0
        size = self.size
        if size > self.view[1] and not self._closed:
            try:
                self.view = (mmap.mmap(self.fd, size, access=mmap.ACCESS_READ), size)
            except (OSError, ValueError):  # out of maps or memory: pread serves instead
                pass

    def append(self, data: bytes) -> int:
        """Write ``data`` at the end; on failure cut the file back so no torn record stays."""
        offset = self.size
        if offset + len(data) > self.allocated and self.prealloc:
            self.preallocate(offset + len(data))
        done = 0
        try:
            done = _pwrite(self.fd, data, offset)  # all of it, but for a full disk or a signal
            while done < len(data):
                done += _pwrite(self.fd, memoryview(data)[done:], offset + done)
        except OSError as exc:
            try:
                os.ftruncate(self.fd, offset)
                self.allocated = offset
            except OSError:
                pass
            raise KvsError(f"write to {self.path} failed: {exc.strerror or exc}") from exc
        self.size = offset + len(data)
        if self.size > self.allocated:  # grew the file itself (no preallocation, or it failed)
            self.allocated = self.size
        return offset

    def preallocate(self, end: int) -> None:
        """Write zeros from the file's end to past ``end``: 64 KiB ahead at first, twice as
        far each time after, up to ``prealloc``, ending on a page boundary. The next
        fdatasync makes them durable with the new length; fdatasyncs of writes inside them
        then flush data only. A failure (a full disk) leaves the file as it was: the
        append then grows the file itself, as without preallocation."""
        self.ahead = min(self.prealloc, max(_FIRST_AHEAD, 2 * self.ahead))
        target = -(-(end + self.ahead) // _PAGE) * _PAGE
        pos = start = max(self.allocated, self.size)  # never zero a written record
        try:
            while pos < target:
                n = min(len(_ZEROS), target - pos)
                pos += os.pwrite(self.fd, memoryview(_ZEROS)[:n], pos)  # not an append
        except OSError as exc:
            log.warning("kvs: cannot preallocate %s: %s", self.path, exc.strerror or exc)
            try:
                os.ftruncate(self.fd, start)
            except OSError:
                pass
            return
        self.allocated = target

    def trim(self) -> None:
        """Cut the zeros written ahead (the log is done growing: closed or frozen)."""
        if self.allocated > self.size:
            os.ftruncate(self.fd, self.size)
            self.allocated = self.size

    def sync(self) -> None:
        _fdatasync(self.fd)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.view = (None, 0)  # a reader still holding the map keeps it alive
            os.close(self.fd)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown; nothing left to report to
            pass


_Loc = tuple[_LogFile, int, int]  # file, offset of the record, length of the record
DurabilityPoint = tuple[_LogFile, int]  # a log file and the offset a write ends at


def _gen_path(directory: Path, gen: int, suffix: str = ".log") -> Path:
    return directory / f"{gen:010d}{suffix}"


class KvStore:
    """The bitcask engine; thread-safe. Open with ``KvStore.open``; see the module docstring."""

    def __init__(
        self,
        directory: Path,
        fsync: str,
        compact_threshold: int,
        batch_ms: float,
        batch_writes: int,
        auto_compact: bool,
        prealloc: int = 0,
    ) -> None:
        self.path = directory
        self.prealloc = prealloc
        self.fsync = fsync
        self.compact_threshold = compact_threshold
        self.auto_compact = auto_compact
        self._batch_ms = batch_ms
        self._batch_writes = batch_writes
        self._wlock = threading.Lock()  # writers, compaction start and switch
        self._compact_lock = threading.Lock()  # one compaction at a time
        self._index: dict[bytes, _Loc] = {}
        self._files: dict[int, _LogFile] = {}
        self._active: _LogFile
        self._live = 0  # bytes of records the index points to
        self._total = 0  # bytes of all log files' records (zeros written ahead not counted)
        self._closed = False
        self._failed: str | None = None  # set when a sync failed: writes refused until reopen
        self._unsynced = 0
        self._sync_cond = threading.Condition(threading.Lock())
        self._syncing = False  # a thread is in fdatasync for the always policy
        self._sync_wake = threading.Event()
        self._sync_stop = threading.Event()
        self._sync_thread: threading.Thread | None = None
        self._compact_thread: threading.Thread | None = None
        self.last_compaction_error: Exception | None = None
        self.compactions = 0
        self._lock_fd = -1
        self._repair = False
        self._deferred = False  # always policy: set/remove leave the fsync to wait_durable
        self._sync_each = fsync == "always"  # set/remove fsync before returning
        self._batch = fsync == "batch"
        self.last_write: DurabilityPoint | None = None  # where the newest record ends
        # Counters for metrics, read at scrape time (plain ints: no cost on the hot path).
        self.bytes_written = 0  # record bytes appended by set/remove
        self.compacted_bytes = 0  # bytes written into compacted generations
        self.compaction_failures = 0
        self._orphans: list[Path] = []  # old files a failed compaction did not delete
        self.fsyncs = 0  # fdatasyncs of the active log (write path and compaction start)
        # Called with each such fdatasync's duration in seconds (kvs-server's histogram).
        self.on_fsync: Callable[[float], None] | None = None

    # ----------------------------------------------------------------- opening

    @classmethod
    def open(
        cls,
        path: str | Path,
        fsync: str = "always",
        compact_threshold: int = 1 << 20,
        batch_ms: float = 10.0,
        batch_writes: int = 1000,
        auto_compact: bool = True,
        repair: bool = False,
        prealloc: int | None = None,
    ) -> KvStore:
        """Open or create the store at ``path``, replaying and checking its logs.

        Compaction starts (in the background) when stale bytes exceed both
        ``compact_threshold`` and half of all bytes on disk. ``repair`` cuts the newest file
        at its first bad record even when valid records follow (they are lost).
        ``prealloc``: bytes of zeros to keep written ahead of the active log's end (0: none);
        default ``PREALLOC_CHUNK`` under the always and batch policies, which fdatasync, and
        0 under never, where it would only double the bytes written.
        """
        if fsync not in FSYNC_POLICIES:
            raise KvsError(
                f"unknown fsync policy {fsync!r}; choose one of {', '.join(FSYNC_POLICIES)}"
            )
        if prealloc is None:
            prealloc = 0 if fsync == "never" else PREALLOC_CHUNK
        if prealloc < 0:
            raise KvsError(f"prealloc must be 0 or more bytes, not {prealloc}")
        directory = claim_directory(path, "kvs")
        store = cls(
            directory, fsync, compact_threshold, batch_ms, batch_writes, auto_compact, prealloc
        )
        store._repair = repair
        try:
            store._lock_directory()
            store._load()
        except BaseException as exc:
            store._release()
            if isinstance(exc, OSError):
                raise KvsError(f"cannot open store {directory}: {exc.strerror or exc}") from exc
            raise
        if fsync == "batch":
            store._sync_thread = threading.Thread(
                target=store._batch_loop, name="kvs-batch-sync", daemon=True
            )
            store._sync_thread.start()
        return store

    def _lock_directory(self) -> None:
        fd = os.open(self.path / _LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise KvsError(f"data directory {self.path} is in use by another store") from None
        self._lock_fd = fd

    def _load(self) -> None:
        for leftover in self.path.glob("*.compact"):
            leftover.unlink()  # a compaction that never finished; its sources are intact
        gens = sorted(
            int(p.stem) for p in self.path.iterdir() if p.suffix == ".log" and p.stem.isdigit()
        )
        for i, gen in enumerate(gens):
            newest = i == len(gens) - 1
            f = _LogFile(_gen_path(self.path, gen), gen, writable=newest)
            self._files[gen] = f
            self._replay(f, newest)
            self._total += f.size
        if not gens:
            f = _LogFile(_gen_path(self.path, 1), 1, writable=True)
            fsync_dir(self.path)
            self._files[1] = f
        self._active = self._files[max(self._files)]
        self._active.prealloc = self.prealloc

    def _replay(self, f: _LogFile, newest: bool) -> None:
        """Index every record of ``f``; cut a torn tail off the newest file, raise on damage.

        The log ends at its last record: zeros after it are a region written ahead
        (preallocation) that a crash left; ``f.size`` becomes that end. The newest file is
        cut there, so an opened store's files end at their last records (its first append
        writes zeros ahead again); an older one is read-only and keeps them."""
        if f.size == 0:
            return
        buf = mmap.mmap(f.fd, 0, access=mmap.ACCESS_READ)
        try:
            end, cut = self._replay_buffer(f, buf, newest)
        finally:
            buf.close()
        if cut or (newest and end < f.allocated):
            os.ftruncate(f.fd, end)
            f.sync()
            f.allocated = end
        f.size = end

    def _replay_buffer(self, f: _LogFile, buf: mmap.mmap, newest: bool) -> tuple[int, bool]:
        """Replay records from ``buf``: (where the log ends, whether to truncate there).

        Where no record parses, nothing but zeros up to the end of the file is the clean
        end of a preallocated log. Anything else is a torn tail (newest file, no valid
        record after it: cut, with a warning) or corruption (KvsError), as in a file without
        zeros: a zero header with data after it is never taken for the end."""
        end = len(buf)
        data_end = _data_end(buf, end)
        pos = 0
        index = self._index
        while pos < end:
            flags, klen, rlen, problem = _parse(buf, pos, end)
            if problem is not None:
                if pos >= data_end:  # zeros to the end of the file: the preallocated region
                    return pos, False
                if newest and self._repair:
                    log.warning(
                        "kvs: repair: cutting %s at offset %d (%s), dropping %d bytes after it",
                        f.path,
                        pos,
                        problem,
                        end - pos,
                    )
                    return pos, True
                if newest and not _valid_record_after(buf, pos + 1, end, data_end):
                    log.warning(
                        "kvs: cutting torn tail of %s at offset %d (%s; non-zero bytes up "
                        "to offset %d, %d bytes in the file)",
                        f.path,
                        pos,
                        problem,
                        data_end,
                        end,
                    )
                    return pos, True
                where = "" if newest else " (older generation)"
                raise KvsError(f"corrupt record in {f.path} at offset {pos}{where}: {problem}")
            key = buf[pos + HEADER.size : pos + HEADER.size + klen]
            old = index.pop(key, None) if flags & TOMBSTONE else index.get(key)
            if old is not None:
                self._live -= old[2]
            if not flags & TOMBSTONE:
                index[key] = (f, pos, rlen)
                self._live += rlen
            pos += rlen
        return pos, False

    # ------------------------------------------------------------- operations

    def set(self, key: bytes, value: bytes) -> None:
        """Store ``value`` under ``key``; durable per the fsync policy when it returns."""
        if type(key) is not bytes:
            key = _as_bytes(key, "key")
        if type(value) is not bytes:
            value = _as_bytes(value, "value")
        record = encode_record(key, value)
        size = len(record)
        with self._wlock:
            if self._closed or self._failed is not None:
                self._check_writable()
            f = self._active
            offset = f.append(record)
            self._total += size
            self.bytes_written += size
            old = self._index.get(key)
            self._index[key] = (f, offset, size)
            self._live += size - (old[2] if old is not None else 0)
            if self._batch:
                self._count_unsynced()
            self.last_write = (f, offset + size)
        if self._sync_each:
            self._sync_to(f, offset + size)
        if self.auto_compact and self._total - self._live > self.compact_threshold:
            self._maybe_compact()

    def set_many(self, pairs: list[tuple[bytes, bytes]]) -> None:
        """``set`` each pair in order, with one write to the log for all of them.

        For a server answering a pipeline of SETs: the records are appended together (one
        pwrite instead of one per record), then indexed in order, so the outcome is that of
        the sets in sequence; if the write fails, none of them happened (the log is cut
        back) and KvsError is raised. Durable per the fsync policy when it returns."""
        records = [
            encode_record(
                k if type(k) is bytes else _as_bytes(k, "key"),
                v if type(v) is bytes else _as_bytes(v, "value"),
            )
            for k, v in pairs
        ]
        data = b"".join(records)
        index = self._index
        with self._wlock:
            self._check_writable()
            f = self._active
            offset = f.append(data)
            self._total += len(data)
            self.bytes_written += len(data)
            live = 0
            for (key, _), record in zip(pairs, records, strict=True):
                size = len(record)
                old = index.get(key)
                index[key] = (f, offset, size)
                live += size - (old[2] if old is not None else 0)
                offset += size
            self._live += live
            if self._batch:
                self._unsynced += len(records) - 1
                self._count_unsynced()
            self.last_write = (f, offset)
        if self._sync_each:
            self._sync_to(f, offset)
        if self.auto_compact and self._total - self._live > self.compact_threshold:
            self._maybe_compact()

    def get(self, key: bytes) -> bytes | None:
        """The value stored under ``key`` or None; never blocks on writers or compaction."""
        if type(key) is not bytes:
            key = _as_bytes(key, "key")
        if self._closed:
            raise KvsError("store is closed")
        loc = self._index.get(key)
        if loc is None:
            return None
        f, offset, length = loc
        m, mapped = f.view
        if offset + length <= mapped:
            data = m[offset : offset + length]  # no syscall: saves ~0.3 us a GET
        else:
            data = _pread(f.fd, length, offset)
            f.misses += 1
            if f.misses >= _REMAP_AFTER:
                f.remap()
        # Fast path: the whole record, not a tombstone, its key, its CRC; else find why.
        if len(data) == length >= HEADER.size:
            crc, flags, klen, vlen = _unpack_header(data)
            if (
                flags == 0
                and HEADER.size + klen + vlen == length
                and data[HEADER.size : HEADER.size + klen] == key
                and _crc32(data[4:] if length < 4096 else memoryview(data)[4:]) == crc
            ):
                return data[HEADER.size + klen :]
        flags, klen, rlen, problem = _parse(data, 0, len(data))
        if problem is None and (flags & TOMBSTONE or rlen != length):
            problem = "not the record the index points to"
        if problem is None and data[HEADER.size : HEADER.size + klen] != key:
            problem = "record holds another key"
        if problem is None:
            problem = "not the record the index points to"
        raise KvsError(f"corrupt record in {f.path} at offset {offset}: {problem}")

    def remove(self, key: bytes) -> None:
        """Delete ``key`` by appending a tombstone; KeyNotFound when absent."""
        key = _as_bytes(key, "key")
        record = encode_record(key, b"", TOMBSTONE)
        with self._wlock:
            self._check_writable()
            if key not in self._index:
                raise KeyNotFound()
            f = self._active
            offset = f.append(record)
            self._total += len(record)
            self.bytes_written += len(record)
            old = self._index.pop(key)
            self._live -= old[2]
            self._count_unsynced()
            self.last_write = (f, offset + len(record))
        if self._sync_each:
            self._sync_to(f, offset + len(record))
        self._maybe_compact()

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __len__(self) -> int:
        return len(self._index)

    def keys(self) -> list[bytes]:
        """A snapshot of the live keys."""
        return list(self._index)

    def stats(self) -> dict[str, int]:
        """Bytes on disk, live and stale bytes, number of files, keys and compactions."""
        with self._wlock:
            return {
                "total_bytes": self._total,
                "live_bytes": self._live,
                "stale_bytes": self._total - self._live,
                "files": len(self._files),
                "keys": len(self._index),
                "compactions": self.compactions,
            }

    # ------------------------------------------------- group commit for a server

    def defer_syncs(self) -> None:
        """Always policy, for a server that acknowledges writes itself: from now on set and
        remove return before their fsync, and the caller must ``wait_durable(last_write)``
        before it tells anyone the write happened. One fsync then covers every write
        made while the previous one ran, however the writers are scheduled."""
        self._deferred = self.fsync == "always"
        self._sync_each = False

    def wait_durable(self, point: DurabilityPoint) -> None:
        """Return once the write that ended at ``point`` is durable (blocks on fdatasync;
        KvsError if a sync failed)."""
        self._sync_to(*point)

    def _check_writable(self) -> None:
        if self._closed:
            raise KvsError("store is closed")
        if self._failed is not None:
            raise KvsError(f"store refuses writes after a failed sync ({self._failed}); reopen it")

    def _count_unsynced(self) -> None:
        """Batch policy: count a write, wake the syncer after batch_writes (under the lock)."""
        if self.fsync == "batch":
            self._unsynced += 1
            if self._unsynced >= self._batch_writes:
                self._sync_wake.set()

    def _sync_to(self, f: _LogFile, end: int) -> None:
        """Always policy: return once ``f`` is durable up to ``end`` (group commit).

        Runs outside the write lock. One thread at a time fdatasyncs; it covers everything
        appended before it started, so writers that queued meanwhile return without their
        own fsync: under N concurrent writers an fsync serves up to N writes.
        """
        if self.fsync != "always":
            return
        cond = self._sync_cond
        with cond:
            while True:
                if self._failed is not None:
                    raise KvsError(self._failed)
                if f.synced >= end:
                    return
                if not self._syncing:
                    break
                cond.wait()
            self._syncing = True
        target = f.size  # every byte below it is written: size moves after the pwrite
        error: OSError | None = None
        try:
            self._fsync(f)
        except OSError as exc:
            error = exc
        except BaseException:  # a fail point's panic: let the other writers go on waiting
            with cond:
                self._syncing = False
                cond.notify_all()
            raise
        with cond:
            self._syncing = False
            if error is None:
                f.synced = max(f.synced, target)
            else:
                # After a failed fsync the page cache may have dropped the data: a later
                # fsync could "succeed" without it, so stop trusting this store.
                self._failed = f"fsync of {f.path}: {error.strerror or error}"
            cond.notify_all()
        if error is not None:
            raise KvsError(self._failed) from error

    def _batch_loop(self) -> None:
        """Background fsync for the batch policy: every batch_ms, or when woken by a writer."""
        while not self._sync_stop.is_set():
            self._sync_wake.wait(self._batch_ms / 1000)
            self._sync_wake.clear()
            self._sync_unsynced()

    def _sync_unsynced(self) -> None:
        with self._wlock:
            if self._unsynced == 0 or self._failed is not None:
                return
            self._unsynced = 0
            f = self._active
        try:
            self._fsync(f)
        except OSError as exc:
            self._failed = f"fsync of {f.path}: {exc.strerror or exc}"
            log.error("kvs: %s", self._failed)

    def _fsync(self, f: _LogFile) -> None:
        """fdatasync ``f`` between the fsync fail points, counted and timed for metrics."""
        _fail_io("kvs_before_fsync")
        t0 = time.perf_counter()
        f.sync()
        self.fsyncs += 1
        if self.on_fsync is not None:
            self.on_fsync(time.perf_counter() - t0)
        _fail_io("kvs_after_fsync")

    # -------------------------------------------------------------- compaction

    def _maybe_compact(self) -> None:
        stale = self._total - self._live
        if (
            not self.auto_compact
            or stale <= self.compact_threshold
            or stale * 2 <= self._total
            or self._compact_lock.locked()
        ):
            return
        with self._wlock:
            if self._closed or self._compact_thread is not None:
                return
            self._compact_thread = threading.Thread(
                target=self._background_compact, name="kvs-compact", daemon=True
            )
            self._compact_thread.start()

    def _background_compact(self) -> None:
        try:
            self.compact()
        except Exception as exc:  # noqa: BLE001 - reported, the store keeps its old files
            self.last_compaction_error = exc
            log.error("kvs: compaction of %s failed: %s", self.path, exc)
        finally:
            with self._wlock:
                self._compact_thread = None

    def compact(self) -> None:
        """Rewrite live records into a new generation and delete the old files.

        Readers never wait; writers wait only for the start and the switch (see module doc).
        Raises KvsError if a record to copy is corrupt (the old files are then kept).
        """
        try:
            with self._compact_lock:
                self._compact()
        except OSError as exc:
            self.compaction_failures += 1
            raise KvsError(f"compaction of {self.path} failed: {exc.strerror or exc}") from exc
        except Exception:
            self.compaction_failures += 1
            raise

    def _compact(self) -> None:
        """Freeze, copy, switch, delete: the steps of compact() (caller holds _compact_lock)."""
        # 1. Freeze: under the write lock, make old files durable and start generation N+2.
        with self._wlock:
            self._check_writable()
            old_files = [self._files[g] for g in sorted(self._files)]
            self._active.trim()  # it grows no more: its zeros would only take disk space
            self._fsync(self._active)
            with self._sync_cond:
                self._active.synced = self._active.size
            self._unsynced = 0
            base = self._active.gen
            new_active = _LogFile(_gen_path(self.path, base + 2), base + 2, writable=True)
            new_active.prealloc = self.prealloc
            fsync_dir(self.path)
            self._files[new_active.gen] = new_active
            self._active = new_active
            snapshot = list(self._index.items())
        # 2. Copy without the lock: readers and writers go on.
        cgen = base + 1
        tmp = _gen_path(self.path, cgen, ".compact")
        _fail_io("kvs_compact_before_copy")
        try:
            moved = self._copy_live(snapshot, tmp)
            _fail_io("kvs_compact_before_rename")
            final = _gen_path(self.path, cgen)
            os.replace(tmp, final)
            fsync_dir(self.path)
        except BaseException as exc:
            if not isinstance(exc, FailPointPanic):  # a fail point's panic is a crash: the
                tmp.unlink(missing_ok=True)  # file stays, as it would (open deletes it)
            raise
        try:
            _fail_io("kvs_compact_before_switch")
            compacted = _LogFile(final, cgen, writable=False)
        except Exception:
            # The copy never went live. Kept, it would outlive the tombstones a later
            # compaction drops and bring the keys they deleted back at the next open.
            final.unlink(missing_ok=True)
            fsync_dir(self.path)
            raise
        # 3. Switch: repoint keys nobody rewrote meanwhile, forget the old files.
        with self._wlock:
            index = self._index
            for key, old_loc, offset in moved:
                if index.get(key) is old_loc:
                    index[key] = (compacted, offset, old_loc[2])
            for f in old_files:
                del self._files[f.gen]
                self._total -= f.size
            self._files[cgen] = compacted
            self._total += compacted.size
            self.compacted_bytes += compacted.size
            self.compactions += 1
        # 4. Delete oldest first; readers holding an old file keep its descriptor. Files a
        # failed deletion left go first next time: they are older, and must be gone before
        # any newer tombstone is (else the values those tombstones deleted come back).
        self._orphans.extend(f.path for f in old_files)
        _fail_io("kvs_compact_before_delete")
        while self._orphans:
            self._orphans[0].unlink(missing_ok=True)
            del self._orphans[0]
            if self._orphans:
                _fail_io("kvs_compact_between_deletes")
        fsync_dir(self.path)

    def _copy_live(
        self, snapshot: list[tuple[bytes, _Loc]], tmp: Path
    ) -> list[tuple[bytes, _Loc, int]]:
        moved: list[tuple[bytes, _Loc, int]] = []
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            chunks: list[bytes] = []
            pending = 0
            offset = 0
            for key, loc in snapshot:
                f, pos, length = loc
                data = f.pread(length, pos)
                flags, klen, rlen, problem = _parse(data, 0, len(data))
                if problem is None and data[HEADER.size : HEADER.size + klen] != key:
                    problem = "record holds another key"
                if problem is not None:
                    raise KvsError(f"corrupt record in {f.path} at offset {pos}: {problem}")
                moved.append((key, loc, offset))
                chunks.append(data)
                pending += length
                offset += length
                if pending >= _COPY_CHUNK:
                    _write_all(fd, b"".join(chunks))
                    chunks, pending = [], 0
            if chunks:
                _write_all(fd, b"".join(chunks))
            _fdatasync(fd)
        finally:
            os.close(fd)
        return moved

    # ----------------------------------------------------------------- closing

    def close(self) -> None:
        """Finish a running compaction, fsync, close files and unlock (idempotent)."""
        with self._wlock:
            if self._closed:
                return
            self._closed = True
            compactor = self._compact_thread
        if compactor is not None:
            compactor.join()
        with self._compact_lock:  # a synchronous compact() in another thread
            pass
        if self._sync_thread is not None:
            self._sync_stop.set()
            self._sync_wake.set()
            self._sync_thread.join()
        try:
            if self._failed is None:
                self._active.trim()  # a cleanly closed log ends at its last record
                self._active.sync()
        finally:
            self._release()

    def _release(self) -> None:
        for f in self._files.values():
            f.close()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # closing the descriptor drops the flock
            self._lock_fd = -1

    def __enter__(self) -> KvStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"KvStore({str(self.path)!r}, fsync={self.fsync!r}, keys={len(self._index)})"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _as_bytes(data: Any, what: str) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, bytearray | memoryview):
        return bytes(data)
    raise TypeError(f"{what} must be bytes, not {type(data).__name__}")
