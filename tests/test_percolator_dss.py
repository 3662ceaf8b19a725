"""Talent Plan's dss percolator tests, against the real Server through a lossy transport.

Each test keeps the anchor's name and asserts what it asserts (Hermitage's
anomalies for snapshot isolation, commit under dropped requests and responses).
The transport drops requests and responses by a seeded rng (`LOSS` of them in
the lossy variants, which the client's idempotent resends must absorb), plus
the anchor's commit hooks: drop non-primary commit requests, drop every commit
request (`fail_primary`), drop every commit response. Time is virtual: the
oracle's physical clock and the client's sleeps share one millisecond counter.

The same scenarios also run on `rows.RowServer` (the per-row handlers the
Maelstrom node runs over lin-kv), so both servers keep one contract.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from distlab.systems.percolator.client import (
    ABORTED,
    COMMITTED,
    UNKNOWN,
    Client,
    RequestLost,
    ResponseLost,
    TsoTimeout,
)
from distlab.systems.percolator.rows import memory_row_server
from distlab.systems.percolator.server import Server
from distlab.systems.percolator.tso import MemoryCeiling, Oracle, physical

EPOCH_MS = 1_700_000_000_000
LOSS = 0.2


class Clock:
    """Virtual milliseconds: sleeping advances it, nothing else does."""

    def __init__(self) -> None:
        self.ms = 0

    def sleep(self, seconds: float) -> None:
        self.ms += round(seconds * 1000)


class Net:
    """The storage server and the oracle behind one unreliable, hookable network."""

    def __init__(self, backend: str = "server", loss: float = 0.0, seed: int = 1) -> None:
        self.clock = Clock()
        self.oracle = Oracle(MemoryCeiling())
        if backend == "server":
            self.server: Any = Server()
        else:
            self.server, _ = memory_row_server(physical)
        self.rng = random.Random(seed)
        self.loss = loss
        self.drop_req = self.drop_resp = self.fail_primary = False
        self.primaries: dict[int, bytes] = {}  # start_ts -> primary, learnt from prewrites
        self.tso_enabled_at: dict[int, int] = {}  # client -> ms its oracle link comes up
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.dropped = 0  # requests and responses lost to `loss` (not the hooks)

    def send(self, method: str, req: dict[str, Any]) -> dict[str, Any]:
        if self.rng.random() < self.loss:
            self.dropped += 1
            raise RequestLost(method)
        if method == "kv_prewrite":
            self.primaries[req["start_version"]] = req["primary_lock"]
        if method == "kv_commit" and self.drop_req:
            is_primary = self.primaries.get(req["start_version"]) in req["keys"]
            if not is_primary or self.fail_primary:
                raise RequestLost("reqhook")
        self.sent.append((method, req))
        resp: dict[str, Any] = getattr(self.server, method)(req)
        if method == "kv_commit" and self.drop_resp:
            raise ResponseLost("resphook")
        if self.rng.random() < self.loss:
            self.dropped += 1
            raise ResponseLost(method)
        return resp

    def tso(self, client: int, clock: Clock) -> Callable[[], int]:
        def get() -> int:
            if clock.ms < self.tso_enabled_at.get(client, 0):
                raise RequestLost("tso link disabled")
            return self.oracle.next(EPOCH_MS + clock.ms)
        return get

    def client(self, i: int, mutants: frozenset[str] = frozenset(), clock: Clock | None = None) -> Client:
        clock = clock or self.clock
        return Client(self.send, self.tso(i, clock), clock.sleep, mutants)


BACKENDS = [("server", 0.0), ("server", LOSS), ("rows", 0.0), ("rows", LOSS)]
IDS = ["server", "server-lossy", "rows", "rows-lossy"]


@pytest.fixture(params=BACKENDS, ids=IDS)
def net(request: pytest.FixtureRequest) -> Net:
    backend, loss = request.param
    return Net(backend, loss)


def setup_1_2(net: Net) -> None:
    c0 = net.client(0)
    c0.begin()
    c0.set(b"1", b"10")
    c0.set(b"2", b"20")
    assert c0.commit() == COMMITTED


def test_get_timestamp_under_unreliable_network() -> None:
    """Links come up at 100, 300 and 700 ms; the client tries at 0, 100 and 300 ms."""
    net = Net()
    net.tso_enabled_at = {0: 100, 1: 300, 2: 700}
    results: list[int | str] = []
    for i in range(3):
        try:
            results.append(net.client(i, clock=Clock()).get_timestamp())
        except TsoTimeout:
            results.append("timeout")
    assert isinstance(results[0], int) and isinstance(results[1], int)
    assert results[0] < results[1]
    assert results[2] == "timeout"


def test_timestamps_strictly_increase_under_loss() -> None:
    net = Net(loss=LOSS)
    got = []
    for _ in range(200):
        try:
            got.append(net.client(0).get_timestamp())
        except TsoTimeout:
            continue
    assert len(got) > 150 and got == sorted(set(got))


def test_lossy_network_really_drops() -> None:
    """The lossy variants are not lossless by accident: messages are dropped, and the
    client's resends of idempotent requests still commit and read back exactly."""
    net = Net(loss=LOSS)
    for i in range(10):
        c = net.client(0)
        c.begin()
        c.set(b"k%d" % i, b"v%d" % i)
        c.set(b"j%d" % i, b"w%d" % i)
        assert c.commit() == COMMITTED
    reader = net.client(1)
    reader.begin()
    assert [reader.get(b"j%d" % i) for i in range(10)] == [b"w%d" % i for i in range(10)]
    assert net.dropped >= 10


def test_predicate_many_preceders_read_predicates(net: Net) -> None:
    setup_1_2(net)
    c1 = net.client(1)
    c1.begin()
    assert c1.get(b"3") is None
    c2 = net.client(2)
    c2.begin()
    c2.set(b"3", b"30")
    assert c2.commit() == COMMITTED
    assert c1.get(b"3") is None


def test_predicate_many_preceders_write_predicates(net: Net) -> None:
    setup_1_2(net)
    c1, c2 = net.client(1), net.client(2)
    c1.begin()
    c2.begin()
    c1.set(b"1", b"20")
    c1.set(b"2", b"30")
    assert c1.get(b"2") == b"20"  # reads the snapshot, not its own buffer (as dss)
    c2.set(b"2", b"40")
    assert c1.commit() == COMMITTED
    assert c2.commit() == ABORTED


def test_lost_update(net: Net) -> None:
    setup_1_2(net)
    c1, c2 = net.client(1), net.client(2)
    c1.begin()
    c2.begin()
    assert c1.get(b"1") == b"10"
    assert c2.get(b"1") == b"10"
    c1.set(b"1", b"11")
    c2.set(b"1", b"11")
    assert c1.commit() == COMMITTED
    assert c2.commit() == ABORTED


def test_read_skew_read_only(net: Net) -> None:
    setup_1_2(net)
    c1, c2 = net.client(1), net.client(2)
    c1.begin()
    c2.begin()
    assert c1.get(b"1") == b"10"
    assert c2.get(b"1") == b"10"
    assert c2.get(b"2") == b"20"
    c2.set(b"1", b"12")
    c2.set(b"2", b"18")
    assert c2.commit() == COMMITTED
    assert c1.get(b"2") == b"20"


def test_read_skew_predicate_dependencies(net: Net) -> None:
    setup_1_2(net)
    c1, c2 = net.client(1), net.client(2)
    c1.begin()
    c2.begin()
    assert c1.get(b"1") == b"10"
    assert c1.get(b"2") == b"20"
    c2.set(b"3", b"30")
    assert c2.commit() == COMMITTED
    assert c1.get(b"3") is None


def test_read_skew_write_predicate(net: Net) -> None:
    setup_1_2(net)
    c1, c2 = net.client(1), net.client(2)
    c1.begin()
    c2.begin()
    assert c1.get(b"1") == b"10"
    assert c2.get(b"1") == b"10"
    assert c2.get(b"2") == b"20"
    c2.set(b"1", b"12")
    c2.set(b"2", b"18")
    assert c2.commit() == COMMITTED
    c1.set(b"2", b"30")
    assert c1.commit() == ABORTED


def test_write_skew(net: Net) -> None:
    """G2-item is allowed under snapshot isolation: both commit."""
    setup_1_2(net)
    c1, c2 = net.client(1), net.client(2)
    c1.begin()
    c2.begin()
    assert c1.get(b"1") == b"10"
    assert c1.get(b"2") == b"20"
    assert c2.get(b"1") == b"10"
    assert c2.get(b"2") == b"20"
    c1.set(b"1", b"11")
    c2.set(b"2", b"21")
    assert c1.commit() == COMMITTED
    assert c2.commit() == COMMITTED


def test_anti_dependency_cycles(net: Net) -> None:
    setup_1_2(net)
    c1, c2 = net.client(1), net.client(2)
    c1.begin()
    c2.begin()
    c1.set(b"3", b"30")
    c2.set(b"4", b"42")
    assert c1.commit() == COMMITTED
    assert c2.commit() == COMMITTED
    c3 = net.client(3)
    c3.begin()
    assert c3.get(b"3") == b"30"
    assert c3.get(b"4") == b"42"


def write_3_4_5(c: Client) -> None:
    c.begin()
    c.set(b"3", b"30")
    c.set(b"4", b"40")
    c.set(b"5", b"50")


def read_3_4_5(net: Net, mutants: frozenset[str] = frozenset()) -> list[bytes | None]:
    c1 = net.client(1, mutants)
    c1.begin()
    return [c1.get(b"3"), c1.get(b"4"), c1.get(b"5")]


def commit_primary_drop_secondary_requests(net: Net, mutants: frozenset[str] = frozenset()) -> None:
    c0 = net.client(0, mutants)
    write_3_4_5(c0)
    net.drop_req = True
    assert c0.commit() == COMMITTED
    assert read_3_4_5(net, mutants) == [b"30", b"40", b"50"]  # the reader rolls the secondaries forward


def test_commit_primary_drop_secondary_requests(net: Net) -> None:
    commit_primary_drop_secondary_requests(net)


def test_commit_primary_success(net: Net) -> None:
    """The anchor repeats the scenario under this name; here the secondaries' locks
    are also checked to be gone once the reader has rolled them forward."""
    commit_primary_drop_secondary_requests(net)
    c2 = net.client(2)
    c2.begin()
    assert [c2.get(k) for k in (b"3", b"4", b"5")] == [b"30", b"40", b"50"]


def test_commit_missing_primary_response(net: Net) -> None:
    """dss: test_commit_primary_success_without_response. No answer to the primary's
    commit: the client must not claim either outcome, and readers find it committed."""
    c0 = net.client(0)
    write_3_4_5(c0)
    net.drop_resp = True
    assert c0.commit() == UNKNOWN
    assert read_3_4_5(net) == [b"30", b"40", b"50"]


def test_commit_primary_fail(net: Net) -> None:
    """Every commit request is dropped: the client knows nothing was committed, rolls
    back, and says so; readers find nothing."""
    c0 = net.client(0)
    write_3_4_5(c0)
    net.drop_req = net.fail_primary = True
    assert c0.commit() == ABORTED
    assert read_3_4_5(net) == [None, None, None]


def commit_primary_fail_secondaries_delivered(net: Net, mutants: frozenset[str] = frozenset()) -> None:
    c0 = net.client(0, mutants)
    write_3_4_5(c0)
    net.drop_req = net.fail_primary = True
    real_send = net.send

    def only_primary_dropped(method: str, req: dict[str, Any]) -> dict[str, Any]:
        if method == "kv_commit" and net.primaries.get(req["start_version"]) not in req["keys"]:
            net.drop_req = False  # let the secondaries' commits through
            try:
                return real_send(method, req)
            finally:
                net.drop_req = True
        return real_send(method, req)

    c0.send = only_primary_dropped
    assert c0.commit() == ABORTED
    assert read_3_4_5(net) == [None, None, None]


def test_commit_primary_fail_secondaries_delivered(net: Net) -> None:
    """Only the primary's commit is lost: a client that committed the secondaries
    first would leave 40 and 50 visible without 30 (atomicity broken)."""
    commit_primary_fail_secondaries_delivered(net)


def test_client_dies_after_prewrite_locks_resolved_by_reader(net: Net) -> None:
    """A writer that prewrites and vanishes blocks readers only for its TTL; then the
    reader rolls it back, and the writer's late commit of the primary fails."""
    c0 = net.client(0)
    write_3_4_5(c0)
    txn = c0.txn
    assert txn is not None
    keys = list(txn.writes)
    assert c0._run(txn._prewrite(keys, keys[0])) is True  # prewritten; then the client "dies"
    start = net.clock.ms
    assert read_3_4_5(net) == [None, None, None]
    assert net.clock.ms - start >= txn.ttl  # it waited out the TTL before rolling back
    commit_ts = net.oracle.next(EPOCH_MS + net.clock.ms)
    late = {"keys": [keys[0]], "start_version": txn.start_ts, "commit_version": commit_ts}
    assert net.server.kv_commit(late)["error"]  # the rollback record refuses the late commit


def test_prewrite_meets_lock_with_oracle_down_aborts(net: Net) -> None:
    """A writer that meets another's lock and cannot reach the oracle to ask about
    it gives up cleanly: commit says aborted, it does not raise."""
    c0 = net.client(0)
    write_3_4_5(c0)
    txn = c0.txn
    assert txn is not None
    keys = list(txn.writes)
    assert c0._run(txn._prewrite(keys, keys[0])) is True
    c1 = net.client(1)
    c1.begin()
    c1.set(b"4", b"41")
    net.tso_enabled_at[1] = 10**12  # client 1's oracle link goes down after begin
    assert c1.commit() == ABORTED


# -- client-side mutants: each caught by one of the tests above -------------------------------


def test_mutant_ignore_locks_caught() -> None:
    with pytest.raises(AssertionError):
        commit_primary_drop_secondary_requests(Net(), frozenset({"ignore-locks"}))


def test_mutant_secondaries_first_caught() -> None:
    with pytest.raises(AssertionError):
        commit_primary_fail_secondaries_delivered(Net(), frozenset({"secondaries-first"}))


def test_unknown_mutant_refused() -> None:
    with pytest.raises(ValueError):
        Net().client(0, frozenset({"no-such-mutant"}))
