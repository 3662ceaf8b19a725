"""TinyKV project 1 (kv/server/server_test.go): the raw API over the same engines.

Raw requests read and write one column family directly, with no MVCC; they are here so the
engines answer TinyKV's first test suite too, and as a debugging window into a store.
"""

from __future__ import annotations

import pytest

from distlab.systems.percolator.server import Server
from distlab.systems.percolator.storage import CF_DEFAULT, CF_WRITE, Modify
from tests.percolator_builder import ENGINES, make_storage


@pytest.fixture(params=ENGINES)
def env(request, tmp_path):
    s = make_storage(request.param, tmp_path)
    yield s, Server(s)
    s.close()


def seed(storage, *keys: int) -> None:
    storage.write([Modify(CF_DEFAULT, bytes([k]), bytes([233, k])) for k in keys])


def test_raw_get_1(env) -> None:
    storage, server = env
    storage.write([Modify(CF_DEFAULT, bytes([99]), bytes([42]))])
    assert server.handle("RawGet", {"key": bytes([99]), "cf": CF_DEFAULT})["value"] == bytes([42])


def test_raw_get_not_found_1(env) -> None:
    _, server = env
    assert server.handle("RawGet", {"key": bytes([99]), "cf": CF_DEFAULT})["not_found"]


def test_raw_put_1(env) -> None:
    storage, server = env
    server.handle("RawPut", {"key": bytes([99]), "value": bytes([42]), "cf": CF_DEFAULT})
    assert storage.reader().get_cf(CF_DEFAULT, bytes([99])) == bytes([42])


def test_raw_get_after_raw_put_1(env) -> None:
    _, server = env
    assert (
        server.raw_put({"key": bytes([99]), "value": bytes([42]), "cf": CF_DEFAULT})["error"]
        is None
    )
    assert (
        server.raw_put({"key": bytes([99]), "value": bytes([44]), "cf": CF_WRITE})["error"] is None
    )
    assert server.raw_get({"key": bytes([99]), "cf": CF_DEFAULT})["value"] == bytes([42])
    assert server.raw_get({"key": bytes([99]), "cf": CF_WRITE})["value"] == bytes([44])


def test_raw_get_after_raw_delete_1(env) -> None:
    storage, server = env
    storage.write([Modify(CF_DEFAULT, bytes([99]), bytes([42]))])
    assert server.raw_delete({"key": bytes([99]), "cf": CF_DEFAULT})["error"] is None
    assert server.raw_get({"key": bytes([99]), "cf": CF_DEFAULT})["not_found"]


def test_raw_delete_1(env) -> None:
    storage, server = env
    storage.write([Modify(CF_DEFAULT, bytes([99]), bytes([42]))])
    assert server.raw_delete({"key": bytes([99]), "cf": CF_DEFAULT})["error"] is None
    assert storage.reader().get_cf(CF_DEFAULT, bytes([99])) is None


def keys_values(resp: dict) -> list[tuple[bytes, bytes]]:
    return [(kv["key"], kv["value"]) for kv in resp["kvs"]]


def test_raw_scan_1(env) -> None:
    storage, server = env
    seed(storage, 1, 2, 3, 4, 5)
    resp = server.raw_scan({"start_key": bytes([1]), "limit": 3, "cf": CF_DEFAULT})
    assert keys_values(resp) == [(bytes([k]), bytes([233, k])) for k in (1, 2, 3)]


def test_raw_scan_after_raw_put_1(env) -> None:
    storage, server = env
    seed(storage, 1, 2, 3, 4)
    server.raw_put({"key": bytes([5]), "value": bytes([233, 5]), "cf": CF_DEFAULT})
    resp = server.raw_scan({"start_key": bytes([1]), "limit": 10, "cf": CF_DEFAULT})
    assert keys_values(resp) == [(bytes([k]), bytes([233, k])) for k in (1, 2, 3, 4, 5)]


def test_raw_scan_after_raw_delete_1(env) -> None:
    storage, server = env
    seed(storage, 1, 2, 3, 4)
    server.raw_delete({"key": bytes([3]), "cf": CF_DEFAULT})
    resp = server.raw_scan({"start_key": bytes([1]), "limit": 10, "cf": CF_DEFAULT})
    assert keys_values(resp) == [(bytes([k]), bytes([233, k])) for k in (1, 2, 4)]


def test_iter_with_raw_delete_1(env) -> None:
    """A reader opened before a delete still iterates the deleted key: readers are snapshots."""
    storage, server = env
    seed(storage, 1, 2, 3, 4)
    it = storage.reader().iter_cf(CF_DEFAULT, bytes([1]))
    server.raw_delete({"key": bytes([3]), "cf": CF_DEFAULT})
    assert [k for k, _ in it] == [bytes([k]) for k in (1, 2, 3, 4)]
