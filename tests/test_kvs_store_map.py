"""KvStore.get reads through a map of each log file (no syscall per GET). It must read what
pread would: the newest value when a key was rewritten past the map, damage done behind the
store's back, and the right bytes after compaction deleted the mapped files or an append
failed and was cut back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from distlab.systems.kvs import store as store_module
from distlab.systems.kvs.engines import KvsError
from distlab.systems.kvs.store import _REMAP_AFTER, HEADER, KvStore


def warm(store: KvStore, key: bytes) -> None:
    """Enough reads past the map that it is redone to cover the file."""
    for _ in range(_REMAP_AFTER):
        store.get(key)


def test_reads_through_the_map_see_every_rewrite(tmp_path: Path) -> None:
    store = KvStore.open(tmp_path, fsync="never", auto_compact=False)
    want: dict[bytes, bytes] = {}
    for round_ in range(5):
        for i in range(50):
            key, value = b"k%d" % i, b"v%d-%d" % (i, round_) * (i + 1)
            store.set(key, value)
            want[key] = value
        warm(store, b"k0")
        f = store._active
        assert f.view[1] == f.size  # mapped up to the end
        assert {k: store.get(k) for k in want} == want
        store.set(b"k1", b"newer")  # past the map: read by pread, still the newest
        want[b"k1"] = b"newer"
        assert store.get(b"k1") == b"newer"
    store.close()


def test_damage_behind_the_stores_back_is_seen_through_the_map(tmp_path: Path) -> None:
    store = KvStore.open(tmp_path, fsync="never", auto_compact=False)
    store.set(b"k1", b"hello")
    warm(store, b"k1")
    f, off, _ = store._index[b"k1"]
    assert off + 1 <= f.view[1]
    fd = os.open(f.path, os.O_WRONLY)
    try:
        os.pwrite(fd, b"X", off + HEADER.size + 3)  # in k1's value
    finally:
        os.close(fd)
    with pytest.raises(KvsError, match="corrupt record"):
        store.get(b"k1")
    store.close()


def test_reads_after_compaction_deleted_the_mapped_files(tmp_path: Path) -> None:
    store = KvStore.open(tmp_path, fsync="never", auto_compact=False)
    for i in range(200):
        store.set(b"k%d" % (i % 20), b"%d" % i)
    warm(store, b"k0")
    old = store._active
    store.compact()
    assert not old.path.exists()
    assert {store.get(b"k%d" % i) for i in range(20)} == {b"%d" % i for i in range(180, 200)}
    warm(store, b"k0")
    assert store.get(b"k19") == b"199"
    store.close()


def test_an_append_that_failed_is_cut_back_behind_the_map(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = KvStore.open(tmp_path, fsync="never", auto_compact=False)
    store.set(b"a", b"1")
    warm(store, b"a")
    mapped = store._active.view[1]

    def full(fd: int, data: bytes, offset: int) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_module, "_pwrite", full)
    with pytest.raises(KvsError, match="No space left"):
        store.set(b"b", b"2")
    monkeypatch.undo()
    assert os.path.getsize(store._active.path) >= mapped  # never below what is mapped
    assert store.get(b"a") == b"1" and store.get(b"b") is None
    store.set(b"b", b"2")
    warm(store, b"b")
    assert store.get(b"a") == b"1" and store.get(b"b") == b"2"
    store.close()
    with KvStore.open(tmp_path, fsync="never") as again:
        assert again.get(b"a") == b"1" and again.get(b"b") == b"2"
