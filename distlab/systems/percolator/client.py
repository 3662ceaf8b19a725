"""The Percolator client: snapshot reads, buffered writes, two-phase commit.

The servers only keep rows; the protocol lives here, as in TiKV's client
(and Talent Plan's dss percolator lab):

* `begin` takes start_ts from the oracle; every read sees the snapshot at
  start_ts, so a transaction never sees half of another one.
* `set` / `delete` only buffer. `commit` picks the first written key as the
  *primary*, prewrites every key (a lock naming the primary, plus the value),
  takes commit_ts, commits the primary and then the secondaries. The commit
  of the primary's lock is the transaction's single commit point: once it is
  in, the transaction is committed, whatever happens to the secondaries.
* Whoever meets a lock resolves it. A read that finds a lock below its
  snapshot asks the primary's row for the transaction's fate
  (kv_check_txn_status): committed -> roll the lock forward; rolled back or
  expired -> roll it back; still alive -> back off and read again. So a client
  that dies between prewrite and commit blocks nobody for longer than its TTL.
* `commit` tells the truth: "committed" once the primary's commit was
  acknowledged, "aborted" when it certainly never will be (a conflict, or the
  primary's commit definitely not delivered and the locks rolled back), and
  "unknown" when the primary's commit was sent but never answered: it may
  have landed, and only a later reader will find out.

The protocol is written once, as generators that yield effects (an RPC, a
timestamp, a sleep) and receive their results; `Client` drives them with plain
calls (tests against an in-process Server), `AsyncClient` with awaits (the
Maelstrom node). Neither the protocol nor the drivers own a socket or a clock.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from distlab.fail import fail_point

COMMITTED, ABORTED, UNKNOWN = "committed", "aborted", "unknown"
DEFAULT_TTL = 3_000  # ms a lock protects a live transaction from being rolled back by readers
TSO_TRIES, TSO_BACKOFF = 3, 0.1  # dss: three tries, 100 ms then 200 ms apart
RPC_TRIES, RPC_BACKOFF = 6, 0.02
LOCK_WAITS, LOCK_BACKOFF, LOCK_BACKOFF_CAP = 30, 0.02, 1.0

MUTANTS = ("secondaries-first", "ignore-locks")
"""Known-bad clients for the tests: commit secondaries before the primary
(a crash in between leaves a transaction half visible); read past a lock as if
the key were absent (a committed transaction's secondary read as missing)."""


class TransportError(Exception):
    """A request got no answer."""


class RequestLost(TransportError):
    """Definitely not delivered: the server never saw it (a refused connection, a dropped request)."""


class ResponseLost(TransportError):
    """Indefinite: the server may have applied the request; only its answer is missing."""


class TsoTimeout(Exception):
    """The oracle could not be reached within its tries."""


class TxnError(Exception):
    """The server answered with an error the client cannot resolve (shown as a KeyError dict)."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True)
class Rpc:
    method: str
    request: dict[str, Any]


@dataclass(frozen=True)
class GetTs:
    pass


@dataclass(frozen=True)
class Sleep:
    seconds: float


Effect = Rpc | GetTs | Sleep
Steps = Generator[Effect, Any, Any]


def get_timestamp() -> Steps:
    """A timestamp, retried with doubling backoff (dss: fails after three tries)."""
    for attempt in range(TSO_TRIES):
        try:
            return (yield GetTs())
        except TransportError:
            if attempt + 1 < TSO_TRIES:
                yield Sleep(TSO_BACKOFF * 2**attempt)
    raise TsoTimeout(f"no timestamp after {TSO_TRIES} tries")


def call(method: str, request: dict[str, Any], tries: int = RPC_TRIES) -> Steps:
    """An idempotent request, resent while its answer is lost. Every handler the
    client uses is idempotent on the server (a repeated prewrite finds its own
    lock, a repeated commit its own write record), so resending is safe; the
    last loss propagates so that callers that care (the primary's commit) can
    tell "maybe applied" from "never delivered"."""
    maybe_applied = False
    for attempt in range(tries):
        try:
            return (yield Rpc(method, request))
        except ResponseLost:
            maybe_applied = True
            last: TransportError = ResponseLost(method)
        except RequestLost:
            last = ResponseLost(method) if maybe_applied else RequestLost(method)
        if attempt + 1 < tries:
            yield Sleep(RPC_BACKOFF * 2**attempt)
    raise last


@dataclass
class Txn:
    """One transaction: its snapshot (start_ts) and its buffered writes."""

    start_ts: int
    mutants: frozenset[str] = frozenset()
    ttl: int = DEFAULT_TTL
    writes: dict[bytes, tuple[str, bytes]] = field(default_factory=dict)  # key -> (op, value), in order
    outcome: str | None = None

    def set(self, key: bytes, value: bytes) -> None:
        self.writes[key] = ("put", value)

    def delete(self, key: bytes) -> None:
        self.writes[key] = ("del", b"")

    # -- reads -------------------------------------------------------------------------

    def get(self, key: bytes) -> Steps:
        """The value at start_ts (None if absent), resolving any lock met on the way.

        Reads the snapshot, not this transaction's own buffer (as dss's client
        does); a caller that wants read-your-writes looks in `writes` first."""
        for attempt in range(LOCK_WAITS):
            resp = yield from call("kv_get", {"key": key, "version": self.start_ts})
            err = resp.get("error")
            if not err:
                return None if resp.get("not_found") else resp.get("value")
            if "locked" not in err:
                raise TxnError(err)
            if "ignore-locks" in self.mutants:
                return None
            alive = yield from resolve_lock(err["locked"])
            if alive:  # doubling waits, so a TTL of seconds is outlasted in a few dozen reads
                yield Sleep(min(LOCK_BACKOFF_CAP, LOCK_BACKOFF * 2**attempt))
        raise TxnError({"retryable": f"key {key!r} stayed locked"})

    # -- commit --------------------------------------------------------------------------

    def commit(self) -> Steps:
        """Two-phase commit; returns COMMITTED, ABORTED or UNKNOWN (see the module doc)."""
        if not self.writes:
            self.outcome = COMMITTED  # read-only: its snapshot was consistent, nothing to write
            return COMMITTED
        keys = list(self.writes)
        primary, secondaries = keys[0], keys[1:]
        ok = yield from self._prewrite([primary], primary)
        if ok and secondaries:
            ok = yield from self._prewrite(secondaries, primary)
        if not ok:
            yield from self._rollback(keys)
            self.outcome = ABORTED
            return ABORTED
        fail_point("percolator::prewrite")
        try:
            commit_ts = yield from get_timestamp()
        except TsoTimeout:
            yield from self._rollback(keys)
            self.outcome = ABORTED
            return ABORTED
        if "secondaries-first" in self.mutants and secondaries:
            yield from self._commit_secondaries(secondaries, commit_ts)
        request = {"keys": [primary], "start_version": self.start_ts, "commit_version": commit_ts}
        fail_point("percolator::commit_primary")
        try:
            resp = yield from call("kv_commit", request)
        except ResponseLost:
            # The commit may have landed: only the primary's row knows. Leave the
            # locks; whoever meets them will ask the primary and finish the job.
            self.outcome = UNKNOWN
            return UNKNOWN
        except RequestLost:
            # Never delivered, and we will not send it again: roll back, so no
            # late copy can commit (a rollback record makes a commit fail).
            yield from self._rollback(keys)
            self.outcome = ABORTED
            return ABORTED
        if resp.get("error"):
            # The primary's lock is gone (rolled back by a reader after its TTL):
            # the transaction is dead; clean up the secondaries' locks.
            yield from self._rollback(keys)
            self.outcome = ABORTED
            return ABORTED
        fail_point("percolator::commit_secondary")
        if "secondaries-first" not in self.mutants and secondaries:
            yield from self._commit_secondaries(secondaries, commit_ts)
        self.outcome = COMMITTED
        return COMMITTED

    def _prewrite(self, keys: list[bytes], primary: bytes) -> Steps:
        """Lock and stage `keys`; False when the transaction must abort."""
        mutations = [{"op": self.writes[k][0], "key": k, "value": self.writes[k][1]} for k in keys]
        request = {"mutations": mutations, "primary_lock": primary,
                   "start_version": self.start_ts, "lock_ttl": self.ttl}
        for _ in range(3):
            try:
                resp = yield from call("kv_prewrite", request)
            except TransportError:
                return False
            errors = resp.get("errors") or []
            if not errors:
                return True
            if any("locked" not in e for e in errors):
                return False  # a write after our snapshot (conflict) or an abort: first committer wins
            # Locks of other transactions: help them along (forward, or back if expired), retry.
            try:
                for e in errors:
                    yield from resolve_lock(e["locked"])
            except (TransportError, TsoTimeout):
                return False  # cannot even ask: give up (nothing of ours is committed)
        return False

    def _commit_secondaries(self, keys: list[bytes], commit_ts: int) -> Steps:
        """Best effort: a lost secondary commit is rolled forward by its next reader."""
        request = {"keys": keys, "start_version": self.start_ts, "commit_version": commit_ts}
        try:
            yield from call("kv_commit", request, tries=1)
        except TransportError:
            pass

    def _rollback(self, keys: list[bytes]) -> Steps:
        """Best effort: locks left behind expire and are rolled back by readers."""
        try:
            yield from call("kv_batch_rollback", {"keys": keys, "start_version": self.start_ts})
        except TransportError:
            pass


def resolve_lock(locked: dict[str, Any]) -> Steps:
    """Settle a lock met by a read or a prewrite; True if its owner is still alive.

    Asks the primary's row (which holds the only commit point), then commits or
    rolls back that transaction's lock on the key met. kv_check_txn_status
    rolls the primary back itself if its TTL ran out or it was never prewritten,
    so afterwards the owner's late commit of the primary fails.
    """
    current_ts = yield from get_timestamp()
    status = yield from call("kv_check_txn_status", {
        "primary_key": locked["primary_lock"], "lock_ts": locked["lock_version"], "current_ts": current_ts})
    commit_version = int(status.get("commit_version") or 0)
    if commit_version == 0 and status.get("action", "no_action") == "no_action" and status.get("lock_ttl"):
        return True  # the owner is within its TTL: wait for it
    yield from call("kv_resolve_lock", {"start_version": locked["lock_version"],
                                        "commit_version": commit_version, "keys": [locked["key"]]})
    return False


# -- drivers ---------------------------------------------------------------------------------


def drive(steps: Steps, send: Callable[[str, dict[str, Any]], dict[str, Any]],
          tso: Callable[[], int], sleep: Callable[[float], None]) -> Any:
    """Run protocol steps with plain calls; transport errors go back into the steps."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            effect = steps.throw(error) if error is not None else steps.send(value)
        except StopIteration as stop:
            return stop.value
        value, error = None, None
        try:
            if isinstance(effect, Rpc):
                value = send(effect.method, effect.request)
            elif isinstance(effect, GetTs):
                value = tso()
            else:
                sleep(effect.seconds)
        except TransportError as exc:
            error = exc


async def drive_async(steps: Steps, send: Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]],
                      tso: Callable[[], Awaitable[int]], sleep: Callable[[float], Awaitable[None]]) -> Any:
    """`drive` with awaits: the same protocol on an event loop (the Maelstrom node)."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            effect = steps.throw(error) if error is not None else steps.send(value)
        except StopIteration as stop:
            return stop.value
        value, error = None, None
        try:
            if isinstance(effect, Rpc):
                value = await send(effect.method, effect.request)
            elif isinstance(effect, GetTs):
                value = await tso()
            else:
                await sleep(effect.seconds)
        except TransportError as exc:
            error = exc


class Client:
    """Blocking client: `send(method, request) -> response` reaches a Server (or a
    router); `oracle()` returns a timestamp; both raise TransportError on loss."""

    def __init__(self, send: Callable[[str, dict[str, Any]], dict[str, Any]], oracle: Callable[[], int],
                 sleep: Callable[[float], None] | None = None, mutants: frozenset[str] = frozenset()) -> None:
        import time

        unknown = set(mutants) - set(MUTANTS)
        if unknown:
            raise ValueError(f"unknown mutants {sorted(unknown)}; known: {MUTANTS}")
        self.send, self.oracle = send, oracle
        self.sleep = sleep or time.sleep
        self.mutants = frozenset(mutants)
        self.txn: Txn | None = None

    def _run(self, steps: Steps) -> Any:
        return drive(steps, self.send, self.oracle, self.sleep)

    def get_timestamp(self) -> int:
        """A fresh timestamp; TsoTimeout if the oracle stays unreachable."""
        return int(self._run(get_timestamp()))

    def begin(self) -> Txn:
        self.txn = Txn(self.get_timestamp(), self.mutants)
        return self.txn

    def _current(self) -> Txn:
        if self.txn is None:
            raise RuntimeError("no transaction: call begin() first")
        return self.txn

    def get(self, key: bytes) -> bytes | None:
        return self._run(self._current().get(key))  # type: ignore[no-any-return]

    def set(self, key: bytes, value: bytes) -> None:
        self._current().set(key, value)

    def delete(self, key: bytes) -> None:
        self._current().delete(key)

    def commit(self) -> str:
        txn, self.txn = self._current(), None
        return str(self._run(txn.commit()))


class AsyncClient:
    """The same protocol over awaitables: `await send(...)`, `await oracle()`, `await sleep(s)`."""

    def __init__(self, send: Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]],
                 oracle: Callable[[], Awaitable[int]], sleep: Callable[[float], Awaitable[None]],
                 mutants: frozenset[str] = frozenset()) -> None:
        self.send, self.oracle, self.sleep = send, oracle, sleep
        self.mutants = frozenset(mutants)

    async def run(self, steps: Steps) -> Any:
        return await drive_async(steps, self.send, self.oracle, self.sleep)

    async def begin(self) -> Txn:
        return Txn(int(await self.run(get_timestamp())), self.mutants)

    async def get(self, txn: Txn, key: bytes) -> bytes | None:
        return await self.run(txn.get(key))  # type: ignore[no-any-return]

    async def commit(self, txn: Txn) -> str:
        return str(await self.run(txn.commit()))
