"""The shard controller's history checker: what every run's answers must agree with,
whatever the order of the operations.

It reads the clerks' operations (join, leave, move: the value sent; query: {"num": n}
invoked, {"num": n, "config": {...}} when ok) and checks:

* shape: a configuration has NSHARDS shards; configuration 0 has no groups and every
  shard on gid 0; a configuration without groups has every shard on 0;
* one configuration per number: every answer for number k is the same configuration
  (replicas that computed differently, or a stale replica answering, disagree here);
* asked for number k (k >= 0), a query answers configuration k, unless k is past the
  latest, then the latest at that time;
* exactly once: a query for the latest configuration answers a number between the join,
  leave and move operations that had completed before it was invoked and those invoked
  before it completed (each of those makes exactly one configuration);
* fewest moves: between two consecutive configurations both seen, either one shard
  changed owner and the groups did not change (a move), or the new one is balanced over
  its groups (sizes within one) and moved no more shards than a rebalancing must.
"""

from __future__ import annotations

from typing import Any

from distlab.checkers.api import History, Params, Verdict
from distlab.systems.shardctrler.rebalance import NSHARDS, balanced, min_moves, moves

MUTATING = ("join", "leave", "move")


def _key(config: dict[str, Any]) -> tuple[Any, ...]:
    groups = tuple(sorted((int(g), tuple(s)) for g, s in config["groups"].items()))
    return (config["num"], tuple(config["shards"]), groups)


def _gids(config: dict[str, Any]) -> list[int]:
    return sorted(int(g) for g in config["groups"])


def check_history(history: History, nshards: int = NSHARDS) -> dict[str, Any]:
    """The verdict dict (valid, figures, anomalies, explanation) for a history."""
    problems: list[str] = []
    invoked_at: dict[Any, int] = {}  # process -> position of its open invocation
    done_ok: list[int] = []  # positions of ok mutating operations' completions
    started: list[int] = []  # positions of mutating invocations (ok, info or open)
    queries: list[tuple[int, int, dict[str, Any], dict[str, Any]]] = []  # (invoke, done, asked, config)
    # Positions in the history, not times, order events: records are in real-time order,
    # and two events of a fast simulated run may share a time stamp.
    for pos, rec in enumerate(history):
        p = rec.get("process")
        if p == "nemesis" or rec.get("f") not in (*MUTATING, "query"):
            continue
        if rec["type"] == "invoke":
            invoked_at[p] = pos
            if rec["f"] in MUTATING:
                started.append(pos)
            continue
        t0 = invoked_at.pop(p, pos)
        if rec["type"] == "fail" and rec["f"] in MUTATING and t0 in started:
            started.remove(t0)  # refused: it made no configuration
        if rec["type"] != "ok":
            continue
        if rec["f"] in MUTATING:
            done_ok.append(pos)
        else:
            queries.append((t0, pos, rec["value"], rec["value"]["config"]))

    seen: dict[int, dict[str, Any]] = {}
    for t0, t1, asked, config in queries:
        num, shards = config.get("num"), config.get("shards")
        if not isinstance(num, int) or not isinstance(shards, list) or len(shards) != nshards:
            problems.append(f"a query answered a malformed configuration: {config}")
            continue
        if not config["groups"] and any(g != 0 for g in shards):
            problems.append(f"configuration {num} has no groups but assigns shards to {sorted(set(shards) - {0})}")
        if num == 0 and config["groups"]:
            problems.append(f"configuration 0 must have no groups; one answer had {_gids(config)}")
        other = seen.setdefault(num, config)
        if _key(other) != _key(config):
            problems.append(f"two answers for configuration {num} differ: shards {other['shards']} "
                            f"groups {_gids(other)} and shards {config['shards']} groups {_gids(config)} "
                            "(the replicas did not compute the same configurations)")
        want = asked.get("num", -1)
        low = sum(1 for t in done_ok if t < t0)
        high = sum(1 for t in started if t < t1)
        if want >= 0 and num > want:
            problems.append(f"query({want}) answered configuration {num}, a later one")
        elif 0 <= want <= low and num != want:
            problems.append(f"query({want}) answered configuration {num}, though configuration "
                            f"{want} existed before the query was sent")
        if want < 0:
            if num < low:
                problems.append(f"query(-1) answered configuration {num} after {low} join/leave/move "
                                "operations had completed: a configuration is missing (stale read or lost update)")
            elif num > high:
                problems.append(f"query(-1) answered configuration {num}, but only {high} join/leave/move "
                                "operations had been sent: some operation made more than one configuration "
                                "(applied twice?)")

    rebalances = 0
    for num in sorted(seen):
        prev = seen.get(num - 1)
        if prev is None or num - 1 < 0:
            continue
        cur = seen[num]
        n_moved = moves(prev["shards"], cur["shards"])
        if _gids(prev) == _gids(cur) and n_moved <= 1:
            continue  # a move (or a join/leave that changed nothing)
        rebalances += 1
        if not balanced(cur["shards"], _gids(cur)):
            problems.append(f"configuration {num} is not balanced over groups {_gids(cur)}: shards {cur['shards']}")
            continue
        need = min_moves(prev["shards"], _gids(cur))
        if n_moved > need:
            problems.append(f"configuration {num} moved {n_moved} shards from configuration {num - 1} "
                            f"where {need} {'was' if need == 1 else 'were'} enough (groups {_gids(prev)} -> {_gids(cur)}; shards "
                            f"{prev['shards']} -> {cur['shards']})")
    out: dict[str, Any] = {
        "valid": not problems,
        "queries": len(queries),
        "configs_seen": len(seen),
        "rebalances_checked": rebalances,
    }
    if problems:
        out["problems"] = problems[:20]
        out["explanation"] = problems[0]
    return out


class ShardCtrlerChecker:
    """`check_history` as a run's checker."""

    def check(self, history: History, params: Params) -> Verdict:
        return Verdict.from_dict(check_history(history), ("problems",))
