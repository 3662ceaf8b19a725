"""Grades a `Pending` table of RPC callbacks: each callback is called exactly once,
with its reply or with None when the reply did not come in time, and nothing stays
in the table after that (no leak, however many replies the network loses).

`run` builds a fresh `target(timeout)` per scenario and says, in one sentence, the
first thing that went wrong (or what a call raised, and where)."""

from __future__ import annotations

import random
import sysconfig
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = str(Path(__file__).resolve())
LIBRARY = tuple(sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platstdlib"))
TIMEOUT = 1.0


class Wrong(Exception):
    """The table misbehaved: the message is the reason shown to the learner."""


def _raised(call: str, exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename != HERE and not f.filename.startswith(LIBRARY)]
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{call} raised {type(exc).__name__}: {exc}{where}"


def _call(table: Any, call: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - the learner's bug, reported as a sentence
        raise Wrong(_raised(call, exc)) from None


class Recorder:
    """Callbacks that remember each call, per msg_id."""

    def __init__(self) -> None:
        self.calls: dict[int, list[Any]] = {}

    def callback(self, msg_id: int) -> Callable[[Any], None]:
        def cb(reply: Any) -> None:
            self.calls.setdefault(msg_id, []).append(reply)
        return cb


def _add(table: Any, rec: Recorder, msg_id: int, now: float) -> None:
    _call(table, f"add({msg_id}, callback, now={now:g})", lambda: table.add(msg_id, rec.callback(msg_id), now))


def _deliver(table: Any, msg_id: int, now: float) -> Any:
    reply = {"type": "read_ok", "in_reply_to": msg_id, "value": msg_id * 10}
    return _call(table, f"deliver(reply to {msg_id}, now={now:g})", lambda: table.deliver(reply, now))


def _reap(table: Any, now: float) -> Any:
    return _call(table, f"reap(now={now:g})", lambda: table.reap(now))


def _pending(table: Any) -> int:
    return _call(table, "len(table)", lambda: len(table))


def _once(rec: Recorder, msg_id: int, want: str, after: str) -> None:
    got = rec.calls.get(msg_id, [])
    if not got:
        raise Wrong(f"the callback of request {msg_id} was never called {after}; it must be called once, "
                    f"with {want}")
    if len(got) > 1:
        raise Wrong(f"the callback of request {msg_id} was called {len(got)} times {after}; it must be "
                    "called exactly once")
    if want == "None" and got[0] is not None:
        raise Wrong(f"the callback of request {msg_id} got {got[0]!r} {after}; a timeout calls it with None")
    if want != "None" and (not isinstance(got[0], dict) or got[0].get("in_reply_to") != msg_id):
        raise Wrong(f"the callback of request {msg_id} got {got[0]!r} {after}; it must get the reply")


def _empty(table: Any, after: str) -> None:
    n = _pending(table)
    if n != 0:
        raise Wrong(f"{n} callback(s) still pending {after}: the table leaks")


def reply_in_time(table: Any, rng: random.Random) -> None:
    rec = Recorder()
    _add(table, rec, 1, 0.0)
    if _pending(table) != 1:
        raise Wrong("len(table) is not 1 after add(1, callback, now=0)")
    if _deliver(table, 1, 0.2) is not True:
        raise Wrong("deliver(reply to 1) returned something other than True though request 1 was waiting")
    _once(rec, 1, "the reply", "after its reply came at t=0.2")
    _empty(table, "after the only request got its reply")


def unknown_reply(table: Any, rng: random.Random) -> None:
    rec = Recorder()
    _add(table, rec, 1, 0.0)
    if _deliver(table, 99, 0.1) is not False:
        raise Wrong("deliver(reply to 99) did not return False though nobody waits for 99")
    if rec.calls:
        raise Wrong("a reply to 99 called the callback of request 1")


def timeout(table: Any, rng: random.Random) -> None:
    rec = Recorder()
    _add(table, rec, 1, 0.0)
    _add(table, rec, 2, 0.5)
    reaped = _reap(table, 0.9)
    if rec.calls or reaped != 0:
        raise Wrong(f"reap(now=0.9) reaped request {sorted(rec.calls) or '?'} before its {TIMEOUT:g} s timeout")
    reaped = _reap(table, 1.0)
    _once(rec, 1, "None", f"by reap(now=1) after add(1, now=0) with a {TIMEOUT:g} s timeout")
    if reaped != 1:
        raise Wrong(f"reap(now=1) returned {reaped!r}; it reaped 1 request")
    if 2 in rec.calls:
        raise Wrong("reap(now=1) also reaped request 2, added at t=0.5")
    _reap(table, 1.5)
    _once(rec, 1, "None", "after reap(now=1) and reap(now=1.5), for add(1, now=0)")
    _once(rec, 2, "None", "by reap(now=1.5) after add(2, now=0.5)")
    _empty(table, "after both requests timed out")


def late_reply(table: Any, rng: random.Random) -> None:
    rec = Recorder()
    _add(table, rec, 1, 0.0)
    _reap(table, 1.2)
    if _deliver(table, 1, 1.3) is not False:
        raise Wrong("deliver(reply to 1, now=1.3) after reap(now=1.2) did not return False: a reply that comes "
                    "after the timeout must be dropped")
    _once(rec, 1, "None", "after a timeout and then a late reply")


def duplicate_reply(table: Any, rng: random.Random) -> None:
    rec = Recorder()
    _add(table, rec, 1, 0.0)
    _deliver(table, 1, 0.1)
    if _deliver(table, 1, 0.2) is not False:
        raise Wrong("a second reply to 1 (a duplicate) was not dropped: deliver must return False")
    _reap(table, 5.0)
    _once(rec, 1, "the reply", "after its reply came twice and a reap")


def lossy_network(table: Any, rng: random.Random) -> None:
    """5,000 requests, 1 ms apart: 20% of replies lost, 10% duplicated, delays up to 1.5 s,
    a reap every 100 ms. Each callback exactly once; the table never holds more than
    the requests of the last timeout and reap interval."""
    rec = Recorder()
    events: list[tuple[float, int, str, int]] = []  # (time, order, kind, msg_id)
    for i in range(1, 5001):
        t = i / 1000
        events.append((t, 0, "add", i))
        if rng.random() >= 0.2:
            copies = 2 if rng.random() < 0.1 else 1
            for _ in range(copies):
                events.append((t + rng.uniform(0.001, 1.5), 1, "reply", i))
    events += [(k / 10, 2, "reap", 0) for k in range(1, 80)]
    events.sort()
    delivered: set[int] = set()
    reaped_at: dict[int, float] = {}
    added_at: dict[int, float] = {}
    bound = 0
    for t, _, kind, i in events:
        if kind == "add":
            _add(table, rec, i, t)
            added_at[i] = t
        elif kind == "reply":
            before = i in rec.calls
            _deliver(table, i, t)
            if not before and i in rec.calls:
                delivered.add(i)
        else:
            called = set(rec.calls)
            _reap(table, t)
            for j in set(rec.calls) - called:
                reaped_at.setdefault(j, t)
            recent = sum(1 for a in added_at.values() if a > t - TIMEOUT - 1e-6)
            bound = max(bound, _pending(table) - recent)
            if bound > 0:
                raise Wrong(f"at t={t:.1f} s, {_pending(table)} callbacks were pending but only {recent} requests "
                            f"were younger than the {TIMEOUT:g} s timeout: expired ones were left behind (leak)")
    for i in range(1, 5001):
        _once(rec, i, "the reply" if i in delivered else "None", "over 5,000 requests with lost, late and "
              "duplicated replies")
        if i in reaped_at and reaped_at[i] - added_at[i] < TIMEOUT - 1e-6:
            raise Wrong(f"request {i}, added at t={added_at[i]:.3f} s, was reaped at t={reaped_at[i]:.1f} s, "
                        f"before its {TIMEOUT:g} s timeout")
    _empty(table, "once every request was answered or timed out (t=7.9 s)")


SCENARIOS: dict[str, Callable[[Any, random.Random], None]] = {
    "reply in time": reply_in_time,
    "unknown reply": unknown_reply,
    "timeout": timeout,
    "late reply": late_reply,
    "duplicate reply": duplicate_reply,
    "lossy network": lossy_network,
}


def scenarios() -> list[str]:
    """The graded scenarios, in the order they run."""
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    """Run one scenario on a fresh `target(timeout=1.0)`; None if it passed, else the reason."""
    if not callable(target):
        return f"{target!r} is not a class: the grader builds a table with Pending(timeout=1.0)"
    try:
        table = target(timeout=TIMEOUT)
    except Exception as exc:  # noqa: BLE001
        return _raised("Pending(timeout=1.0)", exc)
    try:
        SCENARIOS[name](table, random.Random(seed))
    except Wrong as exc:
        return str(exc)
    return None
