"""A brute-force linearizability oracle for small histories (tests only).

It exists to judge `distlab.checkers.linearizable.check`, so it shares nothing
with it: its own pairing of records, its own sequential semantics for every
model (written from the models' documented behaviour, never by calling their
`step`), no partitioning by key, no memoization and no search reductions. It
tries every order of the operations that respects real time: an operation that
completed (ok) before another was invoked comes first; an operation of unknown
outcome (`info`, or never completed) may take effect at any point after its
invocation, or never; a `fail` one never happened. A history is linearizable
when some such order, containing every ok operation, is legal for the model
from its initial state.

The cost is factorial in the number of operations: keep histories to about
eight operations (`MAX_OPS` guards against a runaway).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

MAX_OPS = 10

ILLEGAL: Any = object()  # what a step returns when the operation cannot happen in that state


@dataclass(frozen=True)
class Op:
    """One client call: its invocation, and its ok completion if it had one."""

    process: Any
    f: Any
    value: Any  # the invocation's value
    key: Any  # the invocation's "key" field (kv histories), else None
    known: bool  # True: completed ok; False: outcome unknown
    result: Any  # the ok completion's value (None when unknown)
    call: int  # position of the invocation record
    ret: int | None  # position of the ok completion; None when unknown


def operations(history: Iterable[dict[str, Any]]) -> list[Op]:
    """Client calls of a history, in invocation order.

    A completion closes its process's open call (a completion with no open call
    is ignored); a process that invokes again while a call is open has crashed,
    so that call's outcome is unknown, as is a call never completed. `fail`
    calls are dropped; nemesis records are not calls.
    """
    open_calls: dict[Any, tuple[int, dict[str, Any]]] = {}
    closed: list[tuple[int, dict[str, Any], int | None, dict[str, Any] | None]] = []
    for pos, rec in enumerate(history):
        process = rec.get("process")
        if process == "nemesis":
            continue
        if rec.get("type") == "invoke":
            if process in open_calls:
                call, inv = open_calls.pop(process)
                closed.append((call, inv, None, None))
            open_calls[process] = (pos, rec)
        elif process in open_calls:
            call, inv = open_calls.pop(process)
            closed.append((call, inv, pos, rec))
    closed += [(call, inv, None, None) for call, inv in open_calls.values()]
    ops = []
    for call, inv, ret, done in sorted(closed, key=lambda c: c[0]):
        outcome = done.get("type") if done is not None else "info"
        if outcome == "fail":
            continue
        known = outcome == "ok"
        ops.append(Op(process=inv.get("process"), f=inv.get("f"), value=_plain(inv.get("value")),
                      key=_plain(inv.get("key")), known=known,
                      result=_plain(done.get("value")) if known and done is not None else None,
                      call=call, ret=ret if known else None))
    return ops


def _plain(value: Any) -> Any:
    """Lists as tuples, so values compare the same whatever container the reader made."""
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    return value


# ---------------------------------------------------------------------------
# Sequential specifications: init() and apply(state, op) -> new state or ILLEGAL.
# For an op of unknown outcome, apply gives the state after it happened with
# whatever result it would have had (or ILLEGAL when it could not have
# happened, e.g. a cas whose `from` does not match: such a cas is the same as
# one that never happened).


class Register:
    """A single register: read, write v, and (with cas) cas [from to].

    Initially `initial`. An ok read must return the current value; with
    `nil_read_any` an ok read of nil says nothing (Knossos's reading).
    """

    def __init__(self, initial: Any = None, cas: bool = True, nil_read_any: bool = False) -> None:
        self.initial = initial
        self.cas = cas
        self.nil_read_any = nil_read_any

    def init(self) -> Any:
        return self.initial

    def apply(self, state: Any, op: Op) -> Any:
        return self.apply_value(state, op.f, op.value, op.known, op.result)

    def apply_value(self, state: Any, f: Any, value: Any, known: bool, result: Any) -> Any:
        if f == "read":
            if not known or (result is None and self.nil_read_any):
                return state
            return state if result == state else ILLEGAL
        if f == "write":
            return value
        if f == "cas" and self.cas:
            old, new = value
            return new if state == old else ILLEGAL
        raise ValueError(f"register: no operation {f!r}")


class KeyedRegister(Register):
    """Independent cas registers by key (lin-kv): value [key, v]; every key starts absent."""

    def init(self) -> Any:
        return {}

    def apply(self, state: Any, op: Op) -> Any:
        key, value = op.value
        result = op.result[1] if op.known else None
        new = self.apply_value(state.get(key), op.f, value, op.known, result)
        if new is ILLEGAL:
            return ILLEGAL
        return {**state, key: new}


class KV:
    """String values by key: get (a missing key, or a nil result, is ""), put, append."""

    def init(self) -> Any:
        return {}

    def apply(self, state: Any, op: Op) -> Any:
        current = state.get(op.key, "")
        if op.f == "get":
            if not op.known:
                return state
            return state if (op.result or "") == current else ILLEGAL
        if op.f == "put":
            return {**state, op.key: op.value or ""}
        if op.f == "append":
            return {**state, op.key: current + (op.value or "")}
        raise ValueError(f"kv: no operation {op.f!r}")


class GrowSet:
    """A grow-only set: add x; an ok read returns exactly the elements (any order; nil: none)."""

    def init(self) -> Any:
        return frozenset()

    def apply(self, state: Any, op: Op) -> Any:
        if op.f == "add":
            return state | {op.value}
        if op.f == "read":
            if not op.known:
                return state
            return state if frozenset(op.result or ()) == state else ILLEGAL
        raise ValueError(f"set: no operation {op.f!r}")


class Queue:
    """A FIFO queue: enqueue x; dequeue returns the head (an ok nil: the queue was empty)."""

    def init(self) -> Any:
        return ()

    def apply(self, state: Any, op: Op) -> Any:
        if op.f == "enqueue":
            return (*state, op.value)
        if op.f == "dequeue":
            if not op.known:
                return state[1:]  # took the head, whatever it was (nothing if empty)
            if not state:
                return state if op.result is None else ILLEGAL
            return state[1:] if op.result == state[0] else ILLEGAL
        raise ValueError(f"fifo-queue: no operation {op.f!r}")


SPECS: dict[str, Any] = {
    "register": Register(cas=False),
    "cas-register": Register(),
    "cas-register-knossos": Register(initial=0, nil_read_any=True),
    "keyed-cas-register": KeyedRegister(),
    "kv": KV(),
    "set": GrowSet(),
    "fifo-queue": Queue(),
}


def linearization(history: Iterable[dict[str, Any]], model: str) -> list[Op] | None:
    """A legal order of the history's operations (unknown ones that never happened
    left out), or None when there is none: the history is not linearizable."""
    ops = operations(history)
    if len(ops) > MAX_OPS:
        raise ValueError(f"{len(ops)} operations: too many for brute force (max {MAX_OPS})")
    spec = SPECS[model]
    apply: Callable[[Any, Op], Any] = spec.apply

    def extend(state: Any, left: list[Op], done: list[Op]) -> list[Op] | None:
        if not any(op.known for op in left):
            return done
        for op in left:
            # op may go next unless an op still left completed before op's call
            if any(o.known and o.ret is not None and o.ret < op.call for o in left):
                continue
            new = apply(state, op)
            if new is ILLEGAL:
                continue
            found = extend(new, [o for o in left if o is not op], [*done, op])
            if found is not None:
                return found
        return None

    return extend(spec.init(), ops, [])


def linearizable(history: Iterable[dict[str, Any]], model: str) -> bool:
    """True when some real-time-respecting order of the operations is legal for `model`."""
    return linearization(history, model) is not None
