"""Wing-Gong-Lowe linearizability search with P-compositionality.

The history becomes a doubly linked list of call and return entries in time
order (Porcupine's layout, here as parallel int lists). The search walks the
list: a call entry whose operation the model accepts in the current state is
"lifted" out (linearized) and the walk restarts at the head; reaching a return
entry means an operation that has returned was not linearized, so the search
backtracks. Lowe's memoization skips any (set of linearized operations, state)
already explored; the set is a Python int bitset and the state an interned id
shifted above the bitset, so a configuration is one int.

Two reductions keep the search small, both sound:
- A read-only operation (one that never changes the state, as the model
  declares) that is legal now can be linearized first without loss of
  generality: if the search fails from there, the configuration fails, so no
  sibling is tried.
- Operations with unknown outcome (`info`) and identical input are
  interchangeable, so they are linearized only in call order.
- Dead configurations are cut when the model has the optional hooks
  `monotone(input)` (the op's new state always `extends` the old one) and
  `extends(state, later)` (a preorder: False when monotone ops alone can never
  turn `state` into `later`), as the kv model's appends and string prefixes.
  An ok read R that fixes the state (`fixed_state`), with no unlinearized
  non-monotone op called before R returned, must be linearized before any
  state reset: if the new state does not extend into R's value, no
  linearization can follow. This is what keeps append-heavy kv histories from
  exploring every order of concurrent appends after a wrong one; such a cut
  counts as reaching R's return for the explanation.

Operations with unknown outcome have no return entry: they may be linearized
at any point after their call, or never (the search succeeds once every ok
operation is linearized). Failed operations are dropped.

Partitions (by key) are searched as generators, interleaved in quanta that
start small and double, so the first illegal partition ends the check even if
another one is expensive; a time budget ends it with "unknown".
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from ...history import FAIL, INFO, OK
from ..pairing import calls
from .model import Model, get_model

Verdict = bool | Literal["unknown"]

QUANTUM = 4000  # most lifts + backtracks between two switches of partition
FIRST_QUANTUM = 64  # the first ones: doubled at each switch up to QUANTUM


@dataclass(slots=True, eq=False)
class Operation:
    """One client call as the checker sees it; positions index the record list."""

    id: int
    process: Any
    f: Any
    value: Any  # the invocation's value
    result: Any  # the completion's value (None when unknown)
    status: str  # "ok" or "info" (outcome unknown)
    call: int  # position of the invocation in the history
    ret: int | None  # position of the completion; None when the outcome is unknown
    input: Any
    output: Any
    index: Any = None  # the invocation record's "index"
    time: Any = None  # the invocation record's "time"
    ret_time: Any = None


@dataclass
class Failure:
    """Why a partition is not linearizable: the longest partial linearization found
    and the operation that could not follow it."""

    key: Hashable | None
    ops: list[Operation]
    partial: list[Operation]
    states: list[Any]  # state after each op of `partial`; states[0] is the initial one
    op: Operation

    @property
    def state(self) -> Any:
        return self.states[-1]


@dataclass
class LinResult:
    """Verdict of a linearizability check: valid is True, False or "unknown"."""

    valid: Verdict
    ops: int
    elapsed: float
    model: Model
    partitions: int = 1
    configs: int = 0  # configurations explored (Lowe's cache size)
    failure: Failure | None = None
    history: list[dict[str, Any]] = field(default_factory=list, repr=False)
    operations: list[Operation] = field(default_factory=list, repr=False)
    reason: str = ""

    def explain(self) -> str:
        """Text explanation: the verdict, and for an illegal history the failing
        operation and the longest partial linearization before it."""
        from .explain import explain_text

        return explain_text(self)


def make_operations(history: Iterable[dict[str, Any]], model: Model) -> list[Operation]:
    """Pair invocations with completions and convert them for the model.

    `fail` operations never happened and are dropped; `info` ones and calls
    with no completion keep an unknown outcome; nemesis records are skipped.
    A process that invokes again without completing is treated as crashed.
    """
    ops: list[Operation] = []
    append = ops.append
    prepare = model.operation
    for call, inv, ret, comp in calls(history if isinstance(history, list) else list(history)):
        if comp is None:
            known = False
            result = ret_time = None
        else:
            kind = comp.get("type")
            if kind == FAIL:
                continue
            known = kind == OK
            result = comp.get("value")
            ret_time = comp.get("time")
        try:
            io = prepare(inv, comp if known else None)
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise ValueError(f"record {inv.get('index', call)}: {exc}") from None
        if io is None:
            continue
        append(Operation(len(ops), inv.get("process"), inv.get("f"), inv.get("value"), result,
                         OK if known else INFO, call, ret if known else None, io[0], io[1],
                         inv.get("index", call), inv.get("time"), ret_time))
    return ops


class _Outcome:
    __slots__ = ("valid", "best", "blocked", "configs", "states")

    def __init__(self) -> None:
        self.valid: bool | None = None
        self.best: list[int] = []
        self.blocked: int = -1
        self.configs = 0
        self.states: list[Any] = []


def _search(model: Model, ops: list[Operation], out: _Outcome, quantum: int):
    """Generator: yields every `quantum` steps; sets out.valid when finished."""
    n = len(ops)
    step = model.step
    hash_state = model.hash_state if type(model).hash_state is not Model.hash_state else None
    inputs = [op.input for op in ops]
    outputs = [op.output for op in ops]
    bit = [1 << i for i in range(n)]
    readonly = [model.read_only(op.input) for op in ops]

    # Entries: 0 is the head, then calls/returns in time order, then the tail.
    # An event is position * m + n + code (positions are distinct), code the
    # op id for a call, -1-op for a return.
    m = 2 * n + 1
    events: list[int] = []
    add_event = events.append
    for i, op in enumerate(ops):
        add_event(op.call * m + n + i)
        if op.ret is not None:
            add_event(op.ret * m + n - 1 - i)
    events.sort()
    size = len(events) + 2
    tail = size - 1
    callop = [0] * size  # op id for a call entry, -1-op for a return entry
    entry_of = [0] * n
    match = [0] * n  # return entry of each op, 0 when its outcome is unknown
    for e, ev in enumerate(events, 1):
        code = ev % m - n
        callop[e] = code
        if code >= 0:
            entry_of[code] = e
        else:
            match[-1 - code] = e
    nxt = list(range(1, size + 1))
    prv = list(range(-1, size - 1))
    nxt[tail] = tail
    prv[0] = 0
    remaining = sum(1 for m in match if m)

    # Interchangeable unknown-outcome ops: each may go only after its predecessor.
    pred = [0] * n
    last_same: dict[Any, int] = {}
    for i, op in enumerate(ops):
        if op.ret is None:
            try:
                k = (op.input, op.output)
                j = last_same.get(k)
                last_same[k] = i
            except TypeError:
                continue
            if j is not None:
                pred[i] = bit[j]

    # States interned as ids, shifted above the n bits of the bitset; trans
    # memoizes step: state code | op -> next state code, or -1 if illegal.
    init = model.init()
    states: list[Any] = [init]
    state_index: dict[Any, int] = {hash_state(init) if hash_state else init: 0}
    out.states = states
    trans: dict[int, int] = {}

    # Fast paths: fast[op] >= 0 is the state code a blind write leads to;
    # fast[op] == -2: a read legal only in state code need[op]; -1: use the
    # memoized step.
    fast = [-1] * n
    need = [-1] * n
    if type(model).fixed_state is not Model.fixed_state:
        for i, op in enumerate(ops):
            fixed = model.fixed_state(op.input, op.output)
            if fixed is None:
                continue
            h = hash_state(fixed[0]) if hash_state else fixed[0]
            idx = state_index.get(h)
            if idx is None:
                idx = state_index[h] = len(states)
                states.append(fixed[0])
            if readonly[i]:
                fast[i] = -2
                need[i] = idx << n
            else:
                fast[i] = idx << n

    # Dead configurations (optional model hooks `monotone` and `extends`):
    # kind[op] is 1 for an op that only extends the state, 2 for one that may
    # not; wall[entry] is -2 for an entry the check walks past, -1 where it
    # stops (the call of a kind 2 op, the tail), else the state index the ok
    # read returning there needs. reach[t][code]: extends(states[code], states[t]).
    extends = getattr(model, "extends", None)
    monotone = getattr(model, "monotone", None)
    prune = extends is not None and monotone is not None
    kind = [0] * n
    wall = [-2] * size
    wall[tail] = -1
    if prune:
        for i in range(n):
            if readonly[i]:
                if fast[i] == -2 and match[i]:
                    wall[match[i]] = need[i] >> n
            else:
                kind[i] = 1 if monotone(inputs[i]) else 2
                if kind[i] == 2:
                    wall[entry_of[i]] = -1
    reach: list[dict[int, bool] | None] = [None] * len(states) if prune else []

    if remaining == 0:
        out.valid = True
        return
    cache: set[int] = set()
    cache_add = cache.add
    stack: list[tuple[int, int, int, bool]] = []
    push = stack.append
    pop = stack.pop
    state = 0
    bits = 0
    # The longest partial linearization found (frames, then best_last unless
    # -1) and the op that could not follow it, for the explanation.
    best: list[tuple[int, int, int, bool]] = []
    best_len = -1
    best_last = blocked = -1
    quantum_now = min(quantum, FIRST_QUANTUM)
    q = quantum_now
    e = nxt[0]
    while True:
        op = callop[e]
        if op >= 0:
            p = pred[op]
            if p and not bits & p:
                e = nxt[e]
                continue
            ns = fast[op]
            if ns < 0:
                if ns == -1:
                    ns = trans.get(state | op)
                    if ns is None:
                        ok, new = step(states[state >> n], inputs[op], outputs[op])
                        if ok:
                            h = hash_state(new) if hash_state else new
                            idx = state_index.get(h)
                            if idx is None:
                                idx = state_index[h] = len(states)
                                states.append(new)
                            ns = idx << n
                        else:
                            ns = -1
                        trans[state | op] = ns
                elif state == need[op]:
                    ns = state
                if ns < 0:
                    e = nxt[e]
                    continue
            nb = bits | bit[op]
            key = nb | ns
            if key in cache:
                if not readonly[op]:
                    e = nxt[e]
                    continue
                # A read-only op leads to an explored (failed) configuration:
                # this one fails too; backtrack.
            else:
                cache_add(key)
                pe = prv[e]
                ne = nxt[e]
                nxt[pe] = ne
                prv[ne] = pe
                r = match[op]
                if r:
                    pe = prv[r]
                    ne = nxt[r]
                    nxt[pe] = ne
                    prv[ne] = pe
                    remaining -= 1
                    if not remaining:
                        out.valid = True
                        out.configs = len(cache)
                        return
                if prune and kind[op]:
                    # Dead if the first ok read returning before any call of
                    # a kind 2 op needs a state that ns cannot grow into.
                    f = nxt[0]
                    t = wall[f]
                    while t == -2:
                        f = nxt[f]
                        t = wall[f]
                    if t >= 0:
                        known = reach[t]
                        if known is None:
                            known = reach[t] = {}
                        ok = known.get(ns)
                        if ok is None:
                            ok = known[ns] = bool(extends(states[ns >> n], states[t]))
                        if not ok:
                            if len(stack) >= best_len:
                                best_len = len(stack) + 1
                                best = stack[:]
                                best_last = op
                                blocked = -1 - callop[f]
                            if r:
                                nxt[prv[r]] = r
                                prv[nxt[r]] = r
                                remaining += 1
                            nxt[prv[e]] = e
                            prv[nxt[e]] = e
                            e = nxt[e]
                            continue
                push((e, state, bits, readonly[op]))
                state = ns
                bits = nb
                e = nxt[0]
                q -= 1
                if not q:
                    yield
                    if quantum_now < quantum:
                        quantum_now = min(quantum, quantum_now * 2)
                    q = quantum_now
                continue
        elif len(stack) > best_len:
            best_len = len(stack)
            best = stack[:]
            best_last = -1
            blocked = -1 - op
        # Backtrack, through every read-only (forced) frame.
        while True:
            if not stack:
                out.valid = False
                out.configs = len(cache)
                out.best = [callop[fr[0]] for fr in best] + ([best_last] if best_last >= 0 else [])
                out.blocked = blocked
                return
            e, state, bits, forced = pop()
            i = callop[e]
            r = match[i]
            if r:
                nxt[prv[r]] = r
                prv[nxt[r]] = r
                remaining += 1
            nxt[prv[e]] = e
            prv[nxt[e]] = e
            if not forced:
                break
        e = nxt[e]
        q -= 1
        if not q:
            yield
            if quantum_now < quantum:
                quantum_now = min(quantum, quantum_now * 2)
            q = quantum_now


def check(history: Iterable[dict[str, Any]], model: Model | str = "cas-register",
          budget: float | None = None, quantum: int = QUANTUM) -> LinResult:
    """Check that a history is linearizable with respect to `model`.

    `history` is a list of records (see distlab.history.read_history). `budget`
    is a time limit in seconds; exceeding it gives valid == "unknown". The
    partitions are interleaved so that the first illegal one ends the check.
    Raises ValueError when a record does not fit the model.
    """
    start = time.perf_counter()
    model = get_model(model)
    records = history if isinstance(history, list) else list(history)
    ops = make_operations(records, model)
    parts = model.partition(ops) or [ops]
    parts = [p for p in parts if p]
    order = sorted(range(len(parts)), key=lambda k: len(parts[k]))
    running = []
    for k in order:
        outcome = _Outcome()
        running.append((k, outcome, _search(model, parts[k], outcome, quantum)))
    result = LinResult(valid=True, ops=len(ops), elapsed=0.0, model=model,
                       partitions=len(parts), history=records, operations=ops)
    deadline = None if budget is None else start + budget
    while running:
        still = []
        for item in running:
            k, outcome, gen = item
            next(gen, None)
            if outcome.valid is None:
                still.append(item)
                continue
            result.configs += outcome.configs
            if outcome.valid is False:
                result.valid = False
                result.failure = _failure(model, parts[k], outcome)
                still = []
                break
        running = still
        if running and deadline is not None and time.perf_counter() > deadline:
            result.valid = "unknown"
            result.reason = f"time budget of {budget:g} s exceeded"
            break
    result.elapsed = time.perf_counter() - start
    return result


def _failure(model: Model, part: list[Operation], outcome: _Outcome) -> Failure:
    partial = [part[i] for i in outcome.best]
    states = [model.init()]
    for op in partial:
        _ok, st = model.step(states[-1], op.input, op.output)
        states.append(st)
    key = model.partition_key(part[0].input) if part else None
    return Failure(key=key, ops=part, partial=partial, states=states, op=part[outcome.blocked])
