"""Shared by the Percolator track's graders: build a store, run the learner's call, and say
what the three column families hold in the learner's terms ("the lock column holds nothing
for k1; expected a lock with primary k1 at ts 100").

Not a task (no task.toml here), so the catalogue skips it; each grader loads it by path
with :func:`load` so the staging copy and the installed copy each use their own.
"""

from __future__ import annotations

import sysconfig
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distlab.systems.percolator.codec import CodecError, decode_key, encode_key
from distlab.systems.percolator.mvcc import Lock, Write, WriteKind
from distlab.systems.percolator.server import Server
from distlab.systems.percolator.storage import CF_DEFAULT, CF_LOCK, CF_WRITE, MemoryStorage, Modify

HERE = str(Path(__file__).resolve().parent)
LIBRARY = tuple(sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platstdlib"))
KINDS = {WriteKind.PUT: "put", WriteKind.DELETE: "delete", WriteKind.ROLLBACK: "rollback",
         WriteKind.LOCK: "lock"}
COLUMN = {CF_DEFAULT: "default (data) column", CF_LOCK: "lock column", CF_WRITE: "write column"}


class Wrong(Exception):
    """The learner's code answered wrongly; the message is the sentence shown."""


def show(b: Any) -> str:
    """A key or value as the learner wrote it: k1 for b'k1', hex for anything unprintable."""
    if b is None:
        return "nothing"
    if isinstance(b, str):
        return b
    try:
        data = bytes(b)
    except TypeError:
        return repr(b)
    if data and all(32 < c < 127 for c in data):
        return data.decode()
    return "0x" + data.hex() if data else "an empty key"


def raised(what: str, exc: BaseException) -> str:
    """One sentence: which call raised what, at the learner's line if we can tell."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(HERE) and not f.filename.startswith(LIBRARY)
              and "/distlab/" not in f.filename]
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{what} raised {type(exc).__name__}: {exc}{where}"


def call(what: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Run the learner's code; an exception becomes a Wrong sentence naming `what`."""
    try:
        return fn(*args)
    except Wrong:
        raise
    except Exception as exc:  # noqa: BLE001 - the learner's bug, reported as a sentence
        raise Wrong(raised(what, exc)) from None


def as_bytes(x: Any) -> bytes:
    return x.encode() if isinstance(x, str) else bytes(x)


# -- building a store ---------------------------------------------------------------------------


def lock(storage: MemoryStorage, key: bytes, primary: bytes, ts: int, ttl: int = 0,
         kind: WriteKind = WriteKind.PUT) -> None:
    storage.write([Modify(CF_LOCK, key, Lock(primary, ts, ttl, kind).to_bytes())])


def value(storage: MemoryStorage, key: bytes, start_ts: int, data: bytes) -> None:
    storage.write([Modify(CF_DEFAULT, encode_key(key, start_ts), data)])


def write(storage: MemoryStorage, key: bytes, commit_ts: int, start_ts: int,
          kind: WriteKind = WriteKind.PUT) -> None:
    storage.write([Modify(CF_WRITE, encode_key(key, commit_ts), Write(start_ts, kind).to_bytes())])


def committed(storage: MemoryStorage, key: bytes, data: bytes | None, start_ts: int,
              commit_ts: int) -> None:
    """A committed put (data) or delete (None) of key, as a finished transaction leaves it."""
    if data is None:
        write(storage, key, commit_ts, start_ts, WriteKind.DELETE)
    else:
        value(storage, key, start_ts, data)
        write(storage, key, commit_ts, start_ts, WriteKind.PUT)


def prewritten(storage: MemoryStorage, key: bytes, primary: bytes, start_ts: int,
               data: bytes | None, ttl: int = 0) -> None:
    """A prewrite's lock and staged value (put, or delete when data is None)."""
    if data is not None:
        value(storage, key, start_ts, data)
    lock(storage, key, primary, start_ts, ttl, WriteKind.PUT if data is not None else WriteKind.DELETE)


def reference(storage: MemoryStorage) -> Server:
    """distlab's own handlers, for the steps of a scenario that are not the one graded."""
    return Server(storage)


def server(target: Any, storage: MemoryStorage) -> Any:
    if not callable(target):
        raise Wrong(f"{target!r} is not a class: the grader builds your server with Server(storage)")
    return call("Server(storage)", target, storage)


# -- describing a store -------------------------------------------------------------------------


def _entry(cf: str, key: bytes, raw: bytes) -> tuple[bytes, str]:
    """(user key, a phrase) for one stored entry."""
    try:
        if cf == CF_LOCK:
            lk = Lock.parse(raw)
            return key, (f"a lock with primary {show(lk.primary)} at ts {lk.ts}, ttl {lk.ttl}, "
                         f"kind {KINDS.get(lk.kind, lk.kind)}")
        user, ts = decode_key(key)
        if cf == CF_WRITE:
            w = Write.parse(raw)
            return user, f"a {KINDS.get(w.kind, w.kind)} record at commit ts {ts} from start ts {w.start_ts}"
        return user, f"the value {show(raw)} at ts {ts}"
    except (CodecError, ValueError) as exc:
        return key, f"bytes no encoder here makes ({exc})"


def contents(storage: MemoryStorage, cf: str) -> dict[bytes, list[str]]:
    """Per user key, the phrases of its entries in cf (newest version first)."""
    out: dict[bytes, list[str]] = {}
    for key, raw in sorted(storage.dump(cf).items()):
        user, phrase = _entry(cf, key, raw)
        out.setdefault(user, []).append(phrase)
    return out


def _say(phrases: list[str]) -> str:
    return " and ".join(phrases) if phrases else "nothing"


def expect(storage: MemoryStorage, want: MemoryStorage, after: str) -> None:
    """The learner's store must hold exactly what `want` holds, column by column, key by key."""
    for cf in (CF_LOCK, CF_WRITE, CF_DEFAULT):
        got, exp = contents(storage, cf), contents(want, cf)
        for key in sorted(set(got) | set(exp)):
            g, e = got.get(key, []), exp.get(key, [])
            if g != e:
                raise Wrong(f"{after} the {COLUMN[cf]} holds {_say(g)} for {show(key)}; "
                            f"expected {_say(e)}")


def clone(storage: MemoryStorage) -> MemoryStorage:
    """A copy of a store's latest contents (to run the reference beside the learner)."""
    out = MemoryStorage()
    batch = [Modify(cf, k, v) for cf in (CF_DEFAULT, CF_LOCK, CF_WRITE) for k, v in storage.dump(cf).items()]
    out.write(batch)
    return out


def twin(setup: Callable[[MemoryStorage], None]) -> tuple[MemoryStorage, MemoryStorage]:
    """Two stores built by the same setup: one for the learner, one for the reference."""
    a, b = MemoryStorage(), MemoryStorage()
    setup(a)
    setup(b)
    return a, b


def error_kind(err: Any) -> str | None:
    """The KeyError kind of an error dict ("locked", "conflict", "abort", "retryable")."""
    if not err:
        return None
    if isinstance(err, dict):
        for k in ("locked", "conflict", "abort", "retryable"):
            if err.get(k):
                return k
        return "an error " + ", ".join(err) if err else None
    return f"an error of type {type(err).__name__}"


def field(resp: Any, name: str, what: str) -> Any:
    if not isinstance(resp, dict):
        raise Wrong(f"{what} returned {resp!r}; expected a dict with {name!r}")
    if name not in resp:
        raise Wrong(f"{what} returned a dict without {name!r} (it has {', '.join(map(repr, resp)) or 'nothing'})")
    return resp[name]


# -- one request, the learner's handler beside distlab's ------------------------------------------


def _info(err: dict) -> str:
    kind = error_kind(err)
    if kind == "locked":
        info = err["locked"]
        return (f"a locked error (key {show(info.get('key'))} locked by the transaction at ts "
                f"{info.get('lock_version')} with primary {show(info.get('primary_lock'))})")
    if kind == "conflict":
        info = err["conflict"]
        return f"a write conflict error (key {show(info.get('key'))} has a write at ts {info.get('conflict_ts')})"
    if kind in ("abort", "retryable"):
        return f"an {kind} error" if kind == "abort" else "a retryable error"
    return kind or "no error"


def _locked_key(err: dict) -> tuple:
    """What must agree about an error: its kind, and for a lock, which lock."""
    kind = error_kind(err)
    if kind == "locked":
        info = err["locked"]
        return (kind, as_bytes(info.get("key") or b""), info.get("lock_version"),
                as_bytes(info.get("primary_lock") or b""))
    if kind == "conflict":
        return (kind, as_bytes(err["conflict"].get("key") or b""))
    return (kind,)


def summary(method: str, resp: Any, what: str) -> tuple[Any, str]:
    """(what must agree, a phrase for it) of a handler's response."""
    if method == "kv_get":
        err = field(resp, "error", what)
        if err:
            return ("err", _locked_key(err)), _info(err)
        v = field(resp, "value", what)
        if v is None or resp.get("not_found"):
            if v not in (None, b"", ""):
                return ("bad", show(v)), f"the value {show(v)} with not_found set"
            return ("none",), "not_found (no value)"
        return ("value", as_bytes(v)), f"the value {show(v)}"
    if method == "kv_prewrite":
        errs = field(resp, "errors", what) or []
        if not errs:
            return (), "no errors"
        return tuple(sorted(_locked_key(e) for e in errs)), " and ".join(sorted(_info(e) for e in errs))
    if method == "kv_scan":
        pairs = field(resp, "pairs", what) or []
        keys, phrases = [], []
        for p in pairs:
            err = p.get("error") if isinstance(p, dict) else None
            if not isinstance(p, dict):
                return ("bad",), f"a pair {p!r} that is not a dict"
            if err:
                keys.append((as_bytes(p.get("key") or b""), _locked_key(err)))
                phrases.append(f"{show(p.get('key'))}: {_info(err)}")
            else:
                keys.append((as_bytes(p.get("key") or b""), as_bytes(p.get("value") or b"")))
                phrases.append(f"{show(p.get('key'))}={show(p.get('value'))}")
        return tuple(keys), ("the pairs [" + ", ".join(phrases) + "]") if phrases else "no pairs"
    if method == "kv_check_txn_status":
        action = field(resp, "action", what)
        ttl, cv = int(resp.get("lock_ttl") or 0), int(resp.get("commit_version") or 0)
        return (action, ttl, cv), f"action {action}, lock_ttl {ttl}, commit_version {cv}"
    err = field(resp, "error", what)
    return (_locked_key(err) if err else None), _info(err) if err else "no error"


class Pair:
    """The learner's server and distlab's, each on its own store built the same way."""

    def __init__(self, target: Any) -> None:
        self.mine, self.theirs = MemoryStorage(), MemoryStorage()
        self.server = server(target, self.mine)
        self.ref = Server(self.theirs)

    def setup(self, fn: Callable[[MemoryStorage], None]) -> None:
        fn(self.mine)
        fn(self.theirs)

    def given(self, method: str, req: dict) -> None:
        """A step that is not graded: distlab's handler on both stores."""
        Server(self.mine).handle(method, req)
        self.ref.handle(method, req)

    def graded(self, method: str, req: dict, what: str, check_store: bool = True) -> Any:
        """The learner's handler on their store; its answer and the store must match distlab's."""
        fn = getattr(self.server, method, None)
        if not callable(fn):
            raise Wrong(f"your Server has no method {method}(request); the grader calls it for {what}")
        got = call(what, fn, req)
        want = self.ref.handle(method, req)
        g, gp = summary(method, got, what)
        w, wp = summary(method, want, what)
        if g != w:
            raise Wrong(f"{what} answered {gp}; expected {wp}")
        if check_store:
            expect(self.mine, self.theirs, f"after {what}")
        return got


# -- a client's world: one store, an oracle on a fake clock, a network that can lose requests --------


class Lost(ConnectionError):
    """What `send` raises when the grader's network dropped the request."""


class World:
    """What a learner's Client(send, oracle, sleep) talks to; every request is logged.

    Timestamps are ``clock_ms << 18 | counter``; ``sleep`` moves the clock on (nothing really
    waits), so TTLs expire in simulated time and a check takes milliseconds.
    """

    def __init__(self) -> None:
        self.storage = MemoryStorage()
        self.server = Server(self.storage)
        self.clock_ms = 1_000
        self.counter = 0
        self.log: list[tuple[str, dict]] = []
        self.issued: list[int] = []
        self.issued_at: list[int] = []  # per issued timestamp, how many requests had been sent
        self.slept = 0.0
        self.drop: Callable[[str, dict], bool] = lambda method, req: False
        self.lose_reply: Callable[[str, dict], bool] = lambda method, req: False
        self.before: Callable[[str, dict], None] = lambda method, req: None
        self.on_sleep: Callable[[], None] = lambda: None

    def oracle(self) -> int:
        self.counter += 1
        ts = self.clock_ms << 18 | self.counter
        self.issued.append(ts)
        self.issued_at.append(len(self.log))
        return ts

    def sleep(self, seconds: float) -> None:
        seconds = max(float(seconds), 0.001)
        self.slept += seconds
        if self.slept > 120:
            raise Wrong("the client slept more than 120 s (simulated) in one call: a lock it waits for "
                        "never goes away, or it never gives up")
        self.clock_ms += int(seconds * 1000) + 1
        self.on_sleep()

    def send(self, method: str, req: dict) -> dict:
        if not isinstance(req, dict):
            raise Wrong(f"the client sent {method} with {req!r}; expected a request dict")
        if method not in ("kv_get", "kv_scan", "kv_prewrite", "kv_commit", "kv_batch_rollback",
                          "kv_check_txn_status", "kv_resolve_lock"):
            raise Wrong(f"the client sent an unknown method {method!r}")
        self.log.append((method, req))
        if len(self.log) > 5_000:
            raise Wrong("the client sent more than 5,000 requests in one scenario: it retries without end")
        self.before(method, req)
        if self.drop(method, req):
            raise Lost(f"{method} request lost")
        try:
            resp = self.server.handle(method, req)
        except (KeyError, TypeError, ValueError) as exc:
            raise Wrong(f"the server could not read the client's {method} request {req!r}: "
                        f"{type(exc).__name__}: {exc}") from None
        if self.lose_reply(method, req):
            raise Lost(f"{method} reply lost")
        return resp

    def client(self, target: Any) -> Any:
        if not callable(target):
            raise Wrong(f"{target!r} is not a class: the grader builds Client(send, oracle, sleep)")
        return call("Client(send, oracle, sleep)", target, self.send, self.oracle, self.sleep)

    def locks(self) -> dict[bytes, Lock]:
        return {k: Lock.parse(v) for k, v in self.storage.dump(CF_LOCK).items()}

    def records(self, key: bytes) -> list[tuple[int, Write]]:
        """key's write records, newest first."""
        out = []
        for enc, raw in sorted(self.storage.dump(CF_WRITE).items()):
            user, ts = decode_key(enc)
            if user == key:
                out.append((ts, Write.parse(raw)))
        return out

    def read(self, key: bytes) -> bytes | None:
        """What a fresh snapshot reads after resolving every lock on key (distlab's client)."""
        from distlab.systems.percolator.client import Client as Reader

        reader = Reader(self.server.handle, self.oracle, self.sleep)
        reader.begin()
        return reader.get(key)  # type: ignore[no-any-return]
