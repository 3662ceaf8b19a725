"""Invocations paired with their completions: the one pairing every checker uses.

Jepsen's rule: a client process runs one operation at a time, so a completion
(ok, fail or info) belongs to the latest invocation of the same process. A process
that invokes again before its call completed leaves that call without completion
(as if it crashed); a completion with no open invocation pairs with nothing;
nemesis records are not calls.
"""

from __future__ import annotations

from typing import Any

from distlab.history import FAIL, INFO, INVOKE, NEMESIS, OK

History = list[dict[str, Any]]
_COMPLETIONS = frozenset((OK, FAIL, INFO))

Call = list[Any]
"""[invocation position, invocation, completion position or None, completion or None]."""


def calls(history: History) -> list[Call]:
    """Every client call in invocation order, as [call position, invocation, completion
    position, completion] (the last two None when it never completed)."""
    result: list[Call] = []
    append = result.append
    pending: dict[Any, Call] = {}
    pop = pending.pop
    for pos, rec in enumerate(history):
        kind = rec.get("type")
        if kind == INVOKE:
            proc = rec.get("process")
            if proc == NEMESIS:
                continue
            slot = [pos, rec, None, None]
            append(slot)
            pending[proc] = slot
        elif kind in _COMPLETIONS:  # a nemesis completion finds no pending call
            slot = pop(rec.get("process"), None)
            if slot is not None:
                slot[2] = pos
                slot[3] = rec
    return result


def invocation_of(history: History) -> dict[int, dict[str, Any]]:
    """Completion position -> its invocation, for checkers that walk the history in order
    and judge each completion against what was invoked."""
    return {ret: inv for _, inv, ret, _ in calls(history) if ret is not None}


def completion_of(history: History) -> dict[int, dict[str, Any]]:
    """Invocation position -> its completion (calls never completed are absent)."""
    return {call: done for call, _, _, done in calls(history) if done is not None}
