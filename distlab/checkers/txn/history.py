"""Transactions out of a Jepsen-shaped history: pair invocations with completions.

The checker works on dense integer ids, so everything here turns records into
`Txn` objects numbered in invocation order. Reads are only trusted from `ok`
completions: an invocation carries no read results and an `info` completion may
not have committed, so both keep their writes and drop their reads (as Elle does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..pairing import calls

OK, INFO, FAIL = "ok", "info", "fail"
APPEND, READ, WRITE = "append", "r", "w"


class TxnHistoryError(ValueError):
    """A record that is not a transaction this checker understands; names its index."""


@dataclass(slots=True)
class Txn:
    """One transaction: its outcome, where it sits in the history, its micro-ops."""

    id: int
    type: str  # "ok" | "info" | "fail"
    process: Any
    invoke: int  # position of the invocation in the history (completion's if none)
    complete: int | None  # position of the completion; None when it never completed
    mops: list[tuple[str, Any, Any]]  # (f, key, value); reads are None unless ok
    op: dict[str, Any]  # the record that describes it best (completion if any)


def freeze(x: Any) -> Any:
    """Keys and elements must be hashable; EDN vectors arrive as lists."""
    if isinstance(x, list | tuple):
        return tuple(freeze(y) for y in x)
    if isinstance(x, dict):
        return tuple(sorted((freeze(k), freeze(v)) for k, v in x.items()))
    return x


def _frozen_list(v: Any) -> Any:
    if not isinstance(v, list | tuple):
        return freeze(v)
    t = tuple(v)
    try:
        hash(t)  # a tuple of scalars, the usual case: no per-element work in Python
    except TypeError:
        return freeze(t)
    return t


def _mops(rec: dict[str, Any], keep_reads: bool, workload: str) -> list[tuple[str, Any, Any]]:
    value = rec.get("value")
    if not isinstance(value, list | tuple):
        raise TxnHistoryError(f"record index {rec.get('index')}: value is not a list of micro-ops")
    out: list[tuple[str, Any, Any]] = []
    write_f = APPEND if workload == "list-append" else WRITE
    for mop in value:
        if not isinstance(mop, list | tuple) or len(mop) not in (2, 3):
            raise TxnHistoryError(
                f"record index {rec.get('index')}: micro-op {mop!r} not understood"
            )
        f = mop[0]
        k = mop[1]
        v = mop[2] if len(mop) == 3 else None
        if type(k) is not int:
            k = freeze(k)
        if f == READ:
            if not keep_reads:
                v = None
            elif workload == "list-append":
                v = () if v is None else _frozen_list(v)
            elif type(v) is not int:
                v = freeze(v)
        elif f == write_f:
            if type(v) is not int:
                v = freeze(v)
        else:
            raise TxnHistoryError(
                f"record index {rec.get('index')}: micro-op {f!r} is not {READ!r} or {write_f!r}"
            )
        out.append((f, k, v))
    return out


def _answers(invoked: Any, value: list[Any]) -> bool:
    """Whether an ok completion is its invocation with the reads filled in."""
    if invoked == value:
        return True  # no reads (or only nil ones): one comparison in C
    try:
        if len(invoked) != len(value):
            return False
        for i, m in zip(invoked, value, strict=False):  # lengths compared above
            # only a read may differ, and only in its value
            if i != m and (i[0] != m[0] or i[1] != m[1] or m[0] != READ):
                return False
    except (TypeError, IndexError, KeyError):  # an invocation that is not micro-ops
        return False
    return True


def _non_list_read(value: Any) -> tuple[Any, Any] | None:
    """(key, value) of the first read in an ok list-append completion whose value is neither
    a list nor null, or None when every read is one."""
    for mop in value:
        if isinstance(mop, list | tuple) and len(mop) == 3 and mop[0] == READ \
                and mop[2] is not None and not isinstance(mop[2], list | tuple):
            return mop[1], mop[2]
    return None


def mismatch_case(irec: dict[str, Any], rec: dict[str, Any]) -> dict[str, Any]:
    """A completion whose micro-ops are not the ones invoked: the node did something else."""
    return {
        "op": rec.get("index"), "invoke": irec.get("index"), "process": rec.get("process"),
        "invoked": irec.get("value"), "value": rec.get("value"),
        "text": f"index {rec.get('index')} completed ok with {rec.get('value')!r} but index "
                f"{irec.get('index')} invoked {irec.get('value')!r}: a completion must hold the "
                f"same micro-ops, with reads filled in",
    }


def parse(
    history: list[dict[str, Any]], workload: str,
    mismatches: list[dict[str, Any]] | None = None,
) -> list[Txn]:
    """Transactions in invocation order; completions without invocations stand alone.

    An ok completion that does not answer its invocation (other micro-ops, keys,
    written values, or fewer of them) is kept as an info transaction of what was
    invoked, since nobody knows what it did, and described in `mismatches`.
    """
    txns: list[Txn] = []
    append = txns.append
    paired = calls(history)
    answered = 0
    for ipos, started, ret, rec in paired:
        if started.get("f", "txn") not in ("txn", None):
            answered += rec is not None
            continue
        if rec is None:  # a process that never completed this txn
            append(Txn(0, INFO, started.get("process"), ipos, None, _mops(started, False, workload), started))
            continue
        answered += 1
        type_ = rec["type"]
        src = rec
        if type_ != OK and not isinstance(rec.get("value"), list | tuple):
            src = started
        if type_ == OK and not _answers(started.get("value"), rec["value"]):
            if mismatches is not None:
                mismatches.append(mismatch_case(started, rec))
            append(Txn(0, INFO, rec.get("process"), ipos, None, _mops(started, False, workload), rec))
            continue
        if type_ == OK and workload == "list-append" and (bad := _non_list_read(rec["value"])) is not None:
            if mismatches is not None:  # a read that is no list: nothing it says can be used
                case = mismatch_case(started, rec)
                case["text"] = (f"index {rec.get('index')} read {bad[1]!r} of key {bad[0]!r}: "
                                "a list-append read must return a list (or null for an empty key)")
                mismatches.append(case)
            append(Txn(0, INFO, rec.get("process"), ipos, None, _mops(started, False, workload), rec))
            continue
        append(Txn(0, type_, rec.get("process"), ipos, ret if type_ == OK else None,
                   _mops(src, type_ == OK, workload), rec))
    if len(paired) + answered != len(history):
        # Records no call holds: nemesis ones, completions without invocations (each a
        # transaction of its own), and records of unknown types.
        held = {c[0] for c in paired} | {c[2] for c in paired}
        for pos, rec in enumerate(history):
            if pos in held or rec.get("process") == "nemesis" or rec.get("f", "txn") not in ("txn", None):
                continue
            type_ = rec.get("type")
            if type_ not in (OK, INFO, FAIL):
                raise TxnHistoryError(f"record index {rec.get('index')}: unknown type {type_!r}")
            append(Txn(0, type_, rec.get("process"), pos, pos if type_ == OK else None,
                       _mops(rec, type_ == OK, workload), rec))
    txns.sort(key=lambda t: t.invoke)
    for i, t in enumerate(txns):
        t.id = i
    return txns
