"""Shared by the Sharder track's graders: run the learner's code and turn what went wrong
into one sentence ("join of group 3 moved 4 shards where 2 were enough").

Not a task (no task.toml here), so the catalogue skips it; each grader loads it by path
so that the staging copy and the installed copy each use their own.
"""

from __future__ import annotations

import itertools
import sys
import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

HERE = str(Path(__file__).resolve().parent)


class Wrong(Exception):
    """The learner's code answered wrongly; the message is the sentence shown."""


def raised(what: str, exc: BaseException) -> str:
    """One sentence: which call raised what, at the learner's line if we can tell."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(HERE) and "/distlab/" not in f.filename]
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


def sibling(target: Any, name: str) -> Callable[..., Any]:
    """Another function of the learner's file (the grader names one, calls several)."""
    fn = getattr(target, "__globals__", {}).get(name)
    if not callable(fn):
        raise Wrong(f"solution.py defines no function {name}(); the grader calls it")
    return fn  # type: ignore[no-any-return]


# -- rebalancing -------------------------------------------------------------------------


def sizes(shards: list[int], gids: Iterable[int]) -> str:
    counts = Counter(shards)
    return ", ".join(f"group {g} holds {counts[g]}" for g in sorted(set(gids)))


def brute_min_moves(shards: list[int], gids: Iterable[int]) -> int:
    """The fewest moves to a balanced assignment, by trying every assignment (small n only)."""
    members = sorted(set(gids))
    if not members:
        return sum(1 for g in shards if g != 0)
    best = len(shards)
    for cand in itertools.product(members, repeat=len(shards)):
        counts = Counter(cand)
        if max(counts[g] for g in members) > min(counts[g] for g in members) + 1:
            continue
        best = min(best, sum(1 for a, b in zip(shards, cand, strict=True) if a != b))
    return best


def check_rebalance(fn: Callable[..., Any], what: str, shards: list[int], gids: list[int],
                    fewest: int) -> list[int]:
    """Call rebalance(shards, gids) and check the answer: a list of the same length, every
    shard on a member (0 when there are none), sizes within one, exactly `fewest` moves."""
    got = call(f"rebalance({shards}, {gids})", fn, list(shards), list(gids))
    if not isinstance(got, list | tuple) or len(got) != len(shards):
        raise Wrong(f"{what}: rebalance({shards}, {gids}) returned {got!r}; expected a list of "
                    f"{len(shards)} gids, one per shard")
    got = [int(g) for g in got]
    members = set(gids)
    if not members:
        if any(g != 0 for g in got):
            raise Wrong(f"{what}: with no groups left every shard must go to group 0, got {got}")
        return got
    for s, g in enumerate(got):
        if g not in members:
            left = " (it left)" if g in shards and g != 0 else ""
            raise Wrong(f"{what}: shard {s} is on group {g}{left}, which is not in the "
                        f"configuration (groups {sorted(members)}); got {got}")
    counts = Counter(got)
    if max(counts[g] for g in members) > min(counts[g] for g in members) + 1:
        raise Wrong(f"{what}: {shards} -> {got} is not balanced: {sizes(got, members)} "
                    f"(the largest may hold at most one more than the smallest)")
    moved = sum(1 for a, b in zip(shards, got, strict=True) if a != b)
    if moved != fewest:
        raise Wrong(f"{what} moved {moved} shards where {fewest} {'was' if fewest == 1 else 'were'} "
                    f"enough: {shards} -> {got}")
    return got


def say(fn: Any) -> str:
    return getattr(fn, "__name__", repr(fn))


def module_file(target: Any) -> str:
    """The file the learner's object was loaded from (what the simulator runs as a node):
    a function's module globals name it even when the file exec'd another's code."""
    path = getattr(target, "__globals__", {}).get("__file__")
    if not path:
        module = sys.modules.get(getattr(target, "__module__", ""), None)
        path = getattr(module, "__file__", None)
    if not path:
        raise Wrong("cannot tell which file to run as the node; check it with --bin node.py:start")
    return str(path)


def run_lab(kind: str, target: Any, name: str, seed: int, store: str) -> str | None:
    """One scenario of the controller's lab ("ctl") or the sharded KV's ("kv") on the
    learner's node file: None when it passed, else the lab's sentence. The runs are kept
    under `store`, the one grading gives (`distlab check`'s, or verify's own per grade),
    never the current directory's."""
    from distlab.systems.kvraft.lab import LabSkip

    if kind == "ctl":
        from distlab.systems.shardctrler.lab import Lab
    else:
        from distlab.systems.shardkv.lab import Lab  # type: ignore[assignment]
    lab = Lab(bin=module_file(target), seed=seed, store=store)
    try:
        lab.run(name)
    except (AssertionError, LabSkip) as exc:  # a skip checked nothing: not a pass
        where = f" (run: {lab.runs[-1].run_dir})" if lab.runs else ""
        said = f"this check {exc}" if isinstance(exc, LabSkip) else str(exc)
        return f"{said}{where}"
    return None
