"""A brute-force transactional checker, the yardstick for distlab.checkers.txn.

It shares no code with the checker: it pairs invocations with completions
itself and decides a model by trying serial orders, so a bug in the checker's
inference cannot hide in the oracle too. Exponential, so only for a handful of
transactions (about 8 at most).

Semantics (Jepsen's history shape):

- `ok` transactions committed and their reads are what they saw;
- `info` transactions may or may not have committed; their reads are unknown
  and constrain nothing, only their writes matter (every include/exclude
  combination is tried);
- `fail` transactions never happened.

Models:

- serializable: some total order of the ok transactions plus any subset of the
  info ones, run one at a time from empty keys, gives every ok read exactly;
- strict-serializable: the same, and the order respects real time: a
  transaction that completed before another was invoked comes first (an info
  transaction never completed, so only its invocation constrains it);
- snapshot-isolation: some commit order of the same transactions and, for each,
  a start point (a prefix of that commit order, up to its own commit) whose
  state plus the transaction's own earlier writes gives its reads, where two
  transactions writing a common key never overlap (first committer wins: the
  later committer's snapshot includes the earlier one). This is exact: any
  commit order with such snapshot prefixes is a timestamp assignment of
  start/commit events, and vice versa.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LIST_APPEND, RW_REGISTER = "list-append", "rw-register"
SER, STRICT, SI = "serializable", "strict-serializable", "snapshot-isolation"
MODELS = (SER, STRICT, SI)


@dataclass
class OTxn:
    """One transaction as the oracle sees it."""

    type: str  # ok | info | fail
    invoke: int  # history position of the invocation
    complete: int | None  # position of an ok completion, else None
    mops: list[tuple[str, Any, Any]]  # (f, key, value); reads of non-ok txns are None


def _key(k: Any) -> Any:
    return tuple(_key(x) for x in k) if isinstance(k, list | tuple) else k


def _read_value(workload: str, v: Any) -> Any:
    if workload == LIST_APPEND:
        return () if v is None else tuple(_key(x) for x in v)
    return _key(v)


def transactions(history: list[dict[str, Any]], workload: str) -> list[OTxn]:
    """Pair each completion with its process's pending invocation."""
    out: list[OTxn] = []
    pending: dict[Any, tuple[int, dict[str, Any]]] = {}
    for pos, rec in enumerate(history):
        if rec.get("process") == "nemesis" or rec.get("f", "txn") != "txn":
            continue
        p = rec["process"]
        if rec["type"] == "invoke":
            if p in pending:
                ipos, irec = pending.pop(p)
                out.append(_txn("info", ipos, None, irec["value"], workload))
            pending[p] = (pos, rec)
            continue
        ipos, irec = pending.pop(p, (pos, rec))
        value = rec.get("value")
        if not isinstance(value, list | tuple):
            value = irec["value"]
        out.append(_txn(rec["type"], ipos, pos if rec["type"] == "ok" else None, value, workload))
    for ipos, irec in pending.values():
        out.append(_txn("info", ipos, None, irec["value"], workload))
    return out


def _txn(type_: str, invoke: int, complete: int | None, value: list[Any], workload: str) -> OTxn:
    mops = []
    for mop in value:
        f, k = mop[0], _key(mop[1])
        v = mop[2] if len(mop) > 2 else None
        if f == "r":
            v = _read_value(workload, v) if type_ == "ok" else None
        else:
            v = _key(v)
        mops.append((f, k, v))
    return OTxn(type_, invoke, complete, mops)


class _Run:
    """Applies transactions to a state (a tuple of per-key values)."""

    def __init__(self, txns: list[OTxn], workload: str) -> None:
        self.append = workload == LIST_APPEND
        keys: dict[Any, int] = {}
        for t in txns:
            for _, k, _ in t.mops:
                keys.setdefault(k, len(keys))
        self.slot = keys
        self.empty: tuple[Any, ...] = (() if self.append else None,) * len(keys)

    def reads_ok(self, t: OTxn, snapshot: tuple[Any, ...]) -> bool:
        """Whether t's ok reads are what it sees from this snapshot plus its own writes."""
        if t.type != "ok":
            return True
        local: dict[int, Any] = {}
        for f, k, v in t.mops:
            i = self.slot[k]
            cur = local[i] if i in local else snapshot[i]
            if f == "r":
                if cur != v:
                    return False
            elif self.append:
                local[i] = cur + (v,)
            else:
                local[i] = v
        return True

    def commit(self, t: OTxn, state: tuple[Any, ...]) -> tuple[Any, ...]:
        out = list(state)
        for f, k, v in t.mops:
            if f == "r":
                continue
            i = self.slot[k]
            out[i] = out[i] + (v,) if self.append else v
        return tuple(out)


def _candidates(txns: list[OTxn]) -> tuple[list[OTxn], int]:
    cands = [t for t in txns if t.type == "ok"] + [t for t in txns if t.type == "info"]
    required = (1 << sum(t.type == "ok" for t in txns)) - 1
    return cands, required


def _serializable(txns: list[OTxn], workload: str, realtime: bool) -> bool:
    cands, required = _candidates(txns)
    run = _Run(cands, workload)
    n = len(cands)
    before = [0] * n  # ok txns that completed before i was invoked
    if realtime:
        for i, t in enumerate(cands):
            for j, u in enumerate(cands):
                if u.complete is not None and u.complete < t.invoke:
                    before[i] |= 1 << j
    dead: set[tuple[int, tuple[Any, ...]]] = set()

    def dfs(mask: int, state: tuple[Any, ...]) -> bool:
        if mask & required == required:
            return True
        if (mask, state) in dead:
            return False
        for i in range(n):
            if mask >> i & 1 or before[i] & ~mask:
                continue
            t = cands[i]
            if run.reads_ok(t, state) and dfs(mask | 1 << i, run.commit(t, state)):
                return True
        dead.add((mask, state))
        return False

    return dfs(0, run.empty)


def _snapshot_isolation(txns: list[OTxn], workload: str) -> bool:
    cands, required = _candidates(txns)
    run = _Run(cands, workload)
    n = len(cands)
    writes = [{k for f, k, _ in t.mops if f != "r"} for t in cands]

    def dfs(mask: int, order: list[int], states: list[tuple[Any, ...]]) -> bool:
        if mask & required == required:
            return True
        p = len(order)
        for i in range(n):
            if mask >> i & 1:
                continue
            # first committer wins: every earlier writer of a common key is in the snapshot
            lowest = max((q + 1 for q, j in enumerate(order) if writes[i] & writes[j]), default=0)
            if not any(run.reads_ok(cands[i], states[s]) for s in range(lowest, p + 1)):
                continue
            states.append(run.commit(cands[i], states[-1]))
            order.append(i)
            found = dfs(mask | 1 << i, order, states)
            order.pop()
            states.pop()
            if found:
                return True
        return False

    return dfs(0, [], [run.empty])


def oracle(history: list[dict[str, Any]], workload: str, model: str) -> bool:
    """Whether the history satisfies the model, by exhaustive search."""
    txns = transactions(history, workload)
    if model == SER:
        return _serializable(txns, workload, realtime=False)
    if model == STRICT:
        return _serializable(txns, workload, realtime=True)
    if model == SI:
        return _snapshot_isolation(txns, workload)
    raise ValueError(f"the oracle does not decide {model!r}")
