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
* made by an operation: between two consecutive configurations both seen, some join,
  leave or move that was sent (and not refused) turns the first's groups into the
  second's (a move: and the first's shards, one reassigned, into the second's);
  and no operation makes two of them (a matching of configurations to operations);
* fewest moves: between two consecutive configurations both seen, either a move sent
  made it, or the new one is balanced over its groups (sizes within one) and moved no
  more shards than a rebalancing must.
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
    sent: list[tuple[str, Any]] = []  # every join, leave and move not refused: (f, value sent)
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
        elif rec["f"] in MUTATING and 0 <= t0 < pos and history[t0].get("type") == "invoke":
            sent.append((rec["f"], history[t0].get("value")))
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

    # still open at the end: they may have made a configuration too
    sent += [(history[t0]["f"], history[t0].get("value")) for t0 in invoked_at.values()
             if history[t0].get("f") in MUTATING]
    rebalances = 0
    makers: dict[int, list[int]] = {}  # config number k (k - 1 seen too) -> the sent operations that make it
    for num in sorted(seen):
        prev = seen.get(num - 1)
        if prev is None or num - 1 < 0:
            continue
        cur = seen[num]
        makers[num] = [i for i, (f, value) in enumerate(sent) if _makes(f, value, prev, cur)]
        if not makers[num]:
            problems.append(f"configuration {num} (groups {_gids(cur)}, shards {cur['shards']}) is not what any "
                            f"join, leave or move sent makes from configuration {num - 1} (groups {_gids(prev)}, "
                            f"shards {prev['shards']})")
            continue
        if any(sent[i][0] == "move" for i in makers[num]):
            continue  # a move: its one shard reassigned, exactly as sent
        n_moved = moves(prev["shards"], cur["shards"])
        rebalances += 1
        if not balanced(cur["shards"], _gids(cur)):
            problems.append(f"configuration {num} is not balanced over groups {_gids(cur)}: shards {cur['shards']}")
            continue
        need = min_moves(prev["shards"], _gids(cur))
        if n_moved > need:
            problems.append(f"configuration {num} moved {n_moved} shards from configuration {num - 1} "
                            f"where {need} {'was' if need == 1 else 'were'} enough (groups {_gids(prev)} -> {_gids(cur)}; shards "
                            f"{prev['shards']} -> {cur['shards']})")
    orphan = _unmatched({k: v for k, v in makers.items() if v})
    if orphan is not None:
        f, value = sent[makers[orphan][0]]
        problems.append(f"configuration {orphan} can only have been made by an operation that already made another "
                        f"configuration ({f} {value}): each join, leave and move makes exactly one")
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


def _unmatched(makers: dict[int, list[int]]) -> int | None:
    """A configuration left without an operation of its own when each operation makes at
    most one (a maximum bipartite matching, by augmenting paths), or None."""
    owner: dict[int, int] = {}  # operation -> the configuration it made

    def place(num: int, tried: set[int]) -> bool:
        for op in makers[num]:
            if op not in tried:
                tried.add(op)
                if op not in owner or place(owner[op], tried):
                    owner[op] = num
                    return True
        return False

    return next((num for num in sorted(makers) if not place(num, set())), None)


def _groups(config: dict[str, Any]) -> dict[int, list[Any]]:
    return {int(g): list(s) for g, s in config["groups"].items()}


def _makes(f: str, value: Any, prev: dict[str, Any], cur: dict[str, Any]) -> bool:
    """Whether this operation turns configuration `prev` into `cur`'s groups (and, for a
    move, its shards; a join or leave's shards are judged by the fewest-moves rule)."""
    if not isinstance(value, dict):
        return False
    try:
        groups = _groups(prev)
        if f == "join":
            groups.update({int(g): list(s) for g, s in (value.get("groups") or {}).items()})
        elif f == "leave":
            for g in value.get("gids") or []:
                groups.pop(int(g), None)
        elif f == "move":
            shards = list(prev["shards"])
            shards[int(value["shard"])] = int(value["gid"])
            return groups == _groups(cur) and shards == list(cur["shards"])
        return groups == _groups(cur)
    except (KeyError, TypeError, ValueError, IndexError):
        return False


class ShardCtrlerChecker:
    """`check_history` as a run's checker."""

    def check(self, history: History, params: Params) -> Verdict:
        return Verdict.from_dict(check_history(history), ("problems",))
