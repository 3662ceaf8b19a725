"""rows.py (the per-row handlers the Maelstrom node runs over lin-kv) against the real Server.

A brute-force differential test: random request sequences over a few keys, with
unique timestamps from a counter, go to both `server.Server` and
`rows.RowServer`; every response must match. Single-key prewrites and commits
only: the Server applies a multi-key request all-or-nothing, the row store key
by key (a client that meets an error rolls back every key, so both serve it).
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from distlab.systems.percolator import rows
from distlab.systems.percolator.server import Server
from distlab.systems.percolator.tso import compose, physical

KEYS = [b"a", b"b", b"c"]


def kind(err: Any) -> str | None:
    """An error's kind (and for a lock, whose), as far as a client acts on it."""
    if not err:
        return None
    (name, detail), = err.items()
    if name == "locked":
        return f"locked by {detail['lock_version']} (primary {detail['primary_lock']!r})"
    return str(name)


def normal(method: str, resp: dict[str, Any]) -> Any:
    if method == "kv_get":
        return resp.get("value"), bool(resp.get("not_found")), kind(resp.get("error"))
    if method == "kv_prewrite":
        return [kind(e) for e in resp.get("errors") or []]
    if method == "kv_check_txn_status":
        return resp["action"], resp["commit_version"], resp["lock_ttl"]
    return kind(resp.get("error"))


def random_requests(rng: random.Random, n: int) -> list[tuple[str, dict[str, Any]]]:
    clock = [1000]  # physical ms; each timestamp takes the next logical value or a later ms

    def ts() -> int:
        clock[0] += rng.choice([0, 0, 1, 5, 40])
        ts.logical = getattr(ts, "logical", 0) + 1  # type: ignore[attr-defined]
        return compose(clock[0], ts.logical)  # type: ignore[attr-defined]

    started: list[tuple[int, bytes]] = []  # (start_ts, primary)
    out: list[tuple[str, dict[str, Any]]] = []
    for _ in range(n):
        r = rng.random()
        if r < 0.25 or not started:
            start, primary = ts(), rng.choice(KEYS)
            started.append((start, primary))
            op = rng.choice(["put", "put", "del", "lock"])
            key = primary if rng.random() < 0.6 else rng.choice(KEYS)
            out.append(("kv_prewrite", {"mutations": [{"op": op, "key": key, "value": b"v%d" % start}],
                                        "primary_lock": primary, "start_version": start,
                                        "lock_ttl": rng.choice([0, 10, 100])}))
            continue
        start, primary = rng.choice(started)
        key = rng.choice(KEYS)
        if r < 0.45:
            out.append(("kv_get", {"key": key, "version": ts()}))
        elif r < 0.6:
            out.append(("kv_commit", {"keys": [key], "start_version": start, "commit_version": ts()}))
        elif r < 0.7:
            out.append(("kv_batch_rollback", {"keys": [key], "start_version": start}))
        elif r < 0.85:
            out.append(("kv_check_txn_status", {"primary_key": primary, "lock_ts": start, "current_ts": ts()}))
        else:
            commit = ts() if rng.random() < 0.5 else 0
            out.append(("kv_resolve_lock", {"start_version": start, "commit_version": commit, "keys": KEYS}))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_row_server_answers_as_the_server(seed: int) -> None:
    rng = random.Random(seed)
    server = Server()
    row_server, _ = rows.memory_row_server(physical)
    for i, (method, req) in enumerate(random_requests(rng, 120)):
        want = normal(method, getattr(server, method)(req))
        got = normal(method, getattr(row_server, method)(req))
        assert got == want, f"step {i}: {method} {req}"


def test_differential_test_can_fail() -> None:
    """A row store that forgets rollback records answers a late prewrite differently."""
    rng = random.Random(3)
    server = Server()
    row_server, _ = rows.memory_row_server(physical)
    real = rows.rollback

    def forgetful(row: rows.Row, start_ts: int) -> tuple[rows.Row, Any]:
        new, err = real(row, start_ts)
        new = dict(new, writes=[w for w in new["writes"] if w[2] != rows.ROLLBACK])
        return new, err

    rows.rollback = forgetful  # type: ignore[assignment]
    try:
        mismatch = False
        for _ in range(20):
            for method, req in random_requests(rng, 120):
                if normal(method, getattr(server, method)(req)) != normal(method, getattr(row_server, method)(req)):
                    mismatch = True
        assert mismatch
    finally:
        rows.rollback = real  # type: ignore[assignment]
