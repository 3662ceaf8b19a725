"""Node storage: the simulator's MemoryDisk/SimStorage and the real FileStorage."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from distlab.node.storage import FileStorage, MemoryDisk, SimStorage, StorageError

# ----- SimStorage / MemoryDisk ---------------------------------------------------------


def test_sim_reads_see_writes_at_once() -> None:
    store = MemoryDisk().open()
    assert isinstance(store, SimStorage)
    store["a"] = {"x": [1, 2]}
    assert store["a"] == {"x": [1, 2]}
    assert "a" in store
    assert store.get("a") == {"x": [1, 2]}
    assert store.get("missing") is None
    assert store.get("missing", 7) == 7
    with pytest.raises(KeyError):
        store["missing"]  # noqa: B018


def test_sim_unsynced_writes_lost_on_reopen_synced_kept() -> None:
    disk = MemoryDisk()
    store = disk.open()
    store["kept"] = 1
    store.sync()
    store["lost"] = 2
    store["kept"] = 99  # an overwrite that is never synced
    assert store.dirty
    again = disk.open()
    assert again.keys() == ["kept"]
    assert again["kept"] == 1
    assert "lost" not in again
    assert not again.dirty
    assert disk.syncs == 1


def test_sim_disk_high_water_marks() -> None:
    """Keys and bytes count what was synced; the maxima remember the largest state."""
    disk = MemoryDisk()
    store = disk.open()
    for i in range(5):
        store[f"log/{i}"] = "x" * 10  # 12 bytes encoded
    assert disk.stats()["max_keys"] == 0  # nothing synced yet
    store.sync()
    for i in range(4):
        del store[f"log/{i}"]
    store["log/4"] = "y"  # an overwrite: 3 bytes now
    store.sync()
    assert disk.stats() == {"syncs": 2, "keys": 1, "bytes": 3, "max_keys": 5, "max_bytes": 60}


def test_sim_sync_without_changes_is_a_no_op() -> None:
    disk = MemoryDisk()
    store = disk.open()
    store.sync()
    assert disk.syncs == 0
    store["a"] = 1
    store.sync()
    store.sync()
    assert disk.syncs == 1
    assert not store.dirty


def test_sim_delete_needs_sync_to_persist() -> None:
    disk = MemoryDisk()
    store = disk.open()
    store["a"] = 1
    store["b"] = 2
    store.sync()
    del store["a"]
    assert "a" not in store
    assert disk.open().keys() == ["a", "b"]
    store.sync()
    assert disk.open().keys() == ["b"]
    with pytest.raises(KeyError):
        del store["a"]


def test_sim_value_is_copied_on_set() -> None:
    store = MemoryDisk().open()
    value = [1, {"n": 2}]
    store["k"] = value
    value.append(3)
    value[1]["n"] = 99
    assert store["k"] == [1, {"n": 2}]


def test_sim_value_is_copied_on_get() -> None:
    store = MemoryDisk().open()
    store["k"] = [1]
    got = store["k"]
    got.append(2)
    assert store["k"] == [1]
    assert store.get("k") == [1]


def test_sim_open_does_not_share_state_with_other_open() -> None:
    disk = MemoryDisk()
    a = disk.open()
    a["x"] = 1
    b = disk.open()
    assert "x" not in b
    a.sync()
    assert "x" not in b  # an already-open view does not change under the node
    assert disk.open()["x"] == 1


@pytest.mark.parametrize("value", [object(), {1, 2}, b"bytes", {"nested": object()}, 2**70])
def test_sim_non_json_value_raises(value: object) -> None:
    store = MemoryDisk().open()
    store["k"] = "old"
    with pytest.raises(StorageError, match="'k' is not JSON-serialisable"):
        store["k"] = value
    assert store["k"] == "old"


def test_non_str_key_raises() -> None:
    store = MemoryDisk().open()
    with pytest.raises(StorageError, match="keys are strings, not int"):
        store[1] = "x"  # type: ignore[index]
    assert len(store) == 0


def test_iteration_and_len_sorted() -> None:
    store = MemoryDisk().open()
    for k in ("b", "c", "a"):
        store[k] = k.upper()
    assert list(store) == ["a", "b", "c"]
    assert store.keys() == ["a", "b", "c"]
    assert len(store) == 3


def test_json_null_value_is_stored() -> None:
    store = MemoryDisk().open()
    store["k"] = None
    assert "k" in store
    assert store["k"] is None
    assert store.get("k", "default") is None


# ----- FileStorage ---------------------------------------------------------------------


@pytest.fixture
def path(tmp_path: Path) -> str:
    return str(tmp_path / "sub" / "n1.jsonl")


def reopen(path: str) -> FileStorage:
    return FileStorage(path)


def test_file_creates_directory_and_starts_empty(path: str) -> None:
    store = FileStorage(path)
    try:
        assert len(store) == 0
        assert os.path.isdir(os.path.dirname(path))
    finally:
        store.close()


def test_file_sync_fsyncs_and_survives_reopen(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fsynced: list[int] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        fsynced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    store = FileStorage(path)
    store["a"] = {"list": [1, "two", None], "f": 1.5}
    store["b"] = "bee"
    assert fsynced == []
    store.sync()
    assert fsynced == [store._file.fileno()]
    store.close()
    again = reopen(path)
    try:
        assert again.keys() == ["a", "b"]
        assert again["a"] == {"list": [1, "two", None], "f": 1.5}
        assert again["b"] == "bee"
        assert not again.dirty
    finally:
        again.close()


def test_file_unsynced_writes_are_not_on_disk(path: str) -> None:
    store = FileStorage(path)
    store["a"] = 1
    store.sync()
    store["b"] = 2
    store["a"] = 3
    # The process "dies" here: nothing after the last sync reaches the file.
    again = reopen(path)
    try:
        assert again.keys() == ["a"]
        assert again["a"] == 1
    finally:
        again.close()
        store.close()


def test_file_later_writes_override_earlier(path: str) -> None:
    store = FileStorage(path)
    for i in range(3):
        store["k"] = i
        store.sync()
    store.close()
    again = reopen(path)
    try:
        assert again["k"] == 2
    finally:
        again.close()


def test_file_deletes_persist(path: str) -> None:
    store = FileStorage(path)
    store["a"] = 1
    store["b"] = 2
    store.sync()
    del store["a"]
    store.sync()
    store.close()
    again = reopen(path)
    try:
        assert again.keys() == ["b"]
        assert "a" not in again
        again["a"] = "back"
        again.sync()
    finally:
        again.close()
    third = reopen(path)
    try:
        assert third.keys() == ["a", "b"]
        assert third["a"] == "back"
    finally:
        third.close()


def test_file_torn_last_line_is_cut_and_writes_continue(path: str) -> None:
    store = FileStorage(path)
    store["a"] = 1
    store.sync()
    store.close()
    good_size = os.path.getsize(path)
    with open(path, "ab") as f:
        f.write(b'{"k":"b","v":[1,2')  # a crash in mid-write
    again = reopen(path)
    try:
        assert again.keys() == ["a"]
        assert os.path.getsize(path) == good_size
        again["c"] = "see"
        again.sync()
    finally:
        again.close()
    with open(path, "rb") as f:
        assert f.read().count(b"\n") == 2
    third = reopen(path)
    try:
        assert third.keys() == ["a", "c"]
        assert third["c"] == "see"
    finally:
        third.close()


def test_file_torn_line_in_empty_file(path: str) -> None:
    os.makedirs(os.path.dirname(path))
    with open(path, "wb") as f:
        f.write(b'{"k":"a"')
    store = FileStorage(path)
    try:
        assert len(store) == 0
        assert os.path.getsize(path) == 0
        store["a"] = 1
        store.sync()
    finally:
        store.close()
    again = reopen(path)
    try:
        assert again["a"] == 1
    finally:
        again.close()


@pytest.mark.parametrize(
    "bad",
    [b"not json", b"", b"[1, 2]", b'{"v": 1}', b'"str"', b'{"k": "x"}', b'{"k": 5, "v": 1}'],
    ids=["garbage", "empty", "array", "no-key", "string", "no-value", "int-key"],
)
def test_file_corrupt_middle_line_raises_naming_file_and_line(path: str, bad: bytes) -> None:
    os.makedirs(os.path.dirname(path))
    with open(path, "wb") as f:
        f.write(b'{"k":"a","v":1}\n' + bad + b'\n{"k":"b","v":2}\n')
    with pytest.raises(StorageError) as info:
        FileStorage(path)
    assert str(info.value) == f"{path}: corrupt record on line 2"


def test_file_non_json_value_raises_and_is_not_written(path: str) -> None:
    store = FileStorage(path)
    try:
        with pytest.raises(StorageError, match="not JSON-serialisable"):
            store["k"] = object()
        store.sync()
        assert os.path.getsize(path) == 0
    finally:
        store.close()


def test_file_value_is_copied_on_set(path: str) -> None:
    store = FileStorage(path)
    value = {"xs": [1]}
    store["k"] = value
    value["xs"].append(2)
    store.sync()
    store.close()
    again = reopen(path)
    try:
        assert again["k"] == {"xs": [1]}
    finally:
        again.close()


def test_file_keys_with_odd_characters(path: str) -> None:
    store = FileStorage(path)
    keys = ['quote"', "new\nline", "ünï", ""]
    for i, k in enumerate(keys):
        store[k] = i
    store.sync()
    store.close()
    again = reopen(path)
    try:
        assert {k: again[k] for k in keys} == {k: i for i, k in enumerate(keys)}
    finally:
        again.close()


def count_lines(path: str) -> int:
    with open(path, "rb") as f:
        return f.read().count(b"\n")


def test_file_compaction_keeps_data(path: str) -> None:
    store = FileStorage(path)
    for i in range(1200):
        store[f"k{i:04d}"] = {"i": i}
    store.sync()
    assert count_lines(path) == 1200  # not compacted: the log is all live data
    for i in range(1, 1200):
        del store[f"k{i:04d}"]
    store["last"] = [1, 2, 3]
    store.sync()  # 2400 log lines for 2 live keys: compacted
    assert count_lines(path) == 2
    assert not os.path.exists(path + ".compact")
    # Writes after compaction go to the compacted file.
    store["after"] = "yes"
    store.sync()
    assert count_lines(path) == 3
    store.close()
    again = reopen(path)
    try:
        assert again.keys() == ["after", "k0000", "last"]
        assert again["k0000"] == {"i": 0}
        assert again["last"] == [1, 2, 3]
        assert again["after"] == "yes"
    finally:
        again.close()
