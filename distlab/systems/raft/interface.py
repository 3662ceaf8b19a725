"""What the Raft tester calls on a learner's Raft: the `RaftLike` protocol, and a check
that names what a node lacks or gets wrong before any scenario runs.

`distlab raft-test module:factory` builds one node with `factory(node_id, peers, rng,
persisted)` and holds it to `RaftLike` (see tester.py's docstring for what each call
means). `check_raft` returns one problem per member, so the command can print them on
one line and exit 2 instead of failing deep inside a scenario with an AttributeError.

distlab's own `RaftCore` fits the protocol directly; tests/nodes/raft_plugins.py shows
an adapter a learner might write (tests/nodes/raft_plugins_3a.py adds the 3A members).

TinyKV 3A's scenarios (leader transfer, membership change) need two optional members,
`Transfers` below; a node lacking either gets those scenarios skipped, with one line
naming what is missing:

* `transfer_leader(target)`: on the leader, hand leadership to `target` (stop taking
  proposals, bring its log up to date, then tell it to campaign at once). `target` the
  leader itself cancels a transfer under way; an unknown or non-voting target changes
  nothing (raising ValueError is fine). On a follower: raise NotLeader(leader) (or
  pass the request on to the leader).
* `members`: the ids of the voters in force on this node. A membership change is
  proposed like a command, `propose(conf_change("add" | "remove", node))`: the dict
  `{"conf_change": op, "node": node}` made by `distlab.systems.raft.core.conf_change`.
  The leader starts one change at a time (refuse another with ConfChangeRefused, or
  return None, while one is uncommitted), a removed server's acknowledgements no longer
  count, and a node built with its own id absent from `peers` is not a voter until a
  change adds it: it must never stand for election before that.
"""

from __future__ import annotations

import inspect
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class LogLike(Protocol):
    """The node's log as the safety checks read it."""

    @property
    def snapshot_index(self) -> int: ...  # the last index the snapshot covers (0: none)

    @property
    def snapshot(self) -> Any: ...  # with `.index` and `.term`

    @property
    def last_index(self) -> int: ...

    def term_at(self, index: int) -> int | None: ...  # None if unknown

    def entry(self, index: int) -> Any: ...  # with `.term` and `.command`


@runtime_checkable
class RaftLike(Protocol):
    """A sans-I/O Raft node as the tester drives it (the methods it always calls)."""

    log: LogLike

    def tick(self) -> None: ...

    def step(self, message: Any) -> None: ...

    def propose(self, command: Any) -> int | None: ...  # None (or NotLeader) if not leader

    def has_ready(self) -> bool: ...

    def ready(self) -> Any: ...  # fields as in distlab.systems.raft.Ready

    def advance(self, ready: Any) -> None: ...

    def status(self) -> dict[str, Any]: ...  # at least "term", "role", "commit"


@runtime_checkable
class ReadsAndSnapshots(Protocol):
    """Optional: scenarios that need these are skipped on a node that lacks them
    (a member set to None counts as lacking)."""

    def read_index(self, ctx: Any) -> None: ...

    def compact(self, index: int, data: Any) -> None: ...


@runtime_checkable
class Transfers(Protocol):
    """Optional, for the 3A scenarios: leader transfer and one-server membership change."""

    members: Any  # the voters in force on this node (a collection of ids)

    def transfer_leader(self, target: str) -> None: ...


# name -> the arguments the tester passes, in the order it calls them
METHODS: dict[str, tuple[str, ...]] = {
    "tick": (),
    "step": ("message",),
    "propose": ("command",),
    "has_ready": (),
    "ready": (),
    "advance": ("ready",),
    "status": (),
}
OPTIONAL: dict[str, tuple[str, ...]] = {"read_index": ("ctx",), "compact": ("index", "data"),
                                        "transfer_leader": ("target",)}
# optional attributes (not methods) -> what a skipped scenario's line says of them
OPTIONAL_ATTRIBUTES: dict[str, str] = {
    "members": "members, the voters in force (see Transfers in distlab/systems/raft/interface.py)",
}
LOG_ATTRIBUTES = ("snapshot_index", "snapshot", "last_index")
LOG_METHODS: dict[str, tuple[str, ...]] = {"term_at": ("index",), "entry": ("index",)}
STATUS_KEYS = ("term", "role", "commit")
REQUIRED = (*METHODS, "log")


def _call_problem(owner: str, name: str, value: Any, args: tuple[str, ...]) -> str | None:
    """Why `value` cannot be called as owner.name(*args), or None if it can."""
    if not callable(value):
        return f"{owner}{name} is a {type(value).__name__}, not a method"
    try:
        sig = inspect.signature(value)
    except (TypeError, ValueError):
        return None  # a builtin without a signature: trust it
    try:
        sig.bind(*args)
    except TypeError:
        have = ", ".join(str(p) for p in sig.parameters.values())
        return f"{owner}{name}({have}) cannot be called as {name}({', '.join(args)})"
    return None


def where_defined(obj: Any) -> str:
    """`ClassName at file:line` for the class of `obj`, so a message points at the
    learner's code (just the name when the source cannot be found)."""
    cls = type(obj)
    try:
        path = inspect.getsourcefile(cls)
        line = inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        return cls.__name__
    return f"{cls.__name__} at {path}:{line}" if path else cls.__name__


def missing(node: Any) -> list[str]:
    """The required members the node lacks, in the order `REQUIRED` lists them."""
    return [name for name in REQUIRED if not hasattr(node, name)]


def mistyped(node: Any) -> list[str]:
    """What the node has but cannot be used as the tester uses it (one text per member)."""
    problems: list[str] = []
    for name, args in METHODS.items():
        if hasattr(node, name):
            problem = _call_problem("", name, getattr(node, name), args)
            if problem:
                problems.append(problem)
    for name, args in OPTIONAL.items():
        value = getattr(node, name, None)
        if value is not None:
            problem = _call_problem("", name, value, args)
            if problem:
                problems.append(problem)
    members = getattr(node, "members", None)
    if members is not None and not _is_collection(members):
        problems.append(f"members is a {type(members).__name__}, not a collection of node ids")
    if hasattr(node, "log"):
        log = node.log
        lacks = [a for a in (*LOG_ATTRIBUTES, *LOG_METHODS) if not hasattr(log, a)]
        if lacks:
            problems.append(f"log lacks {', '.join(lacks)}")
        for attr in ("snapshot_index", "last_index"):
            value = getattr(log, attr, 0)
            if not isinstance(value, int):
                problems.append(f"log.{attr} is a {type(value).__name__}, not an int")
        snapshot = getattr(log, "snapshot", None)
        if hasattr(log, "snapshot") and snapshot is None:
            problems.append("log.snapshot is None, but the tester reads log.snapshot.index and "
                            ".term even before any snapshot: make it an object with index 0 "
                            f"and term 0 (your log is {where_defined(log)})")
        elif hasattr(log, "snapshot") and not (hasattr(snapshot, "index") and hasattr(snapshot, "term")):
            problems.append("log.snapshot has no .index and .term")
        for name, args in LOG_METHODS.items():
            if hasattr(log, name):
                problem = _call_problem("log.", name, getattr(log, name), args)
                if problem:
                    problems.append(problem)
    status = getattr(node, "status", None)
    if callable(status) and not any(p.startswith("status") for p in problems):
        try:
            st = status()
        except Exception as exc:  # noqa: BLE001 - a learner's bug, reported as such
            problems.append(f"status() raised {type(exc).__name__}: {exc}")
            return problems
        if not isinstance(st, dict):
            problems.append(f"status() returns a {type(st).__name__}, not a dict")
        else:
            lacks = [k for k in STATUS_KEYS if k not in st]
            if lacks:
                problems.append(f"status() lacks {', '.join(map(repr, lacks))}")
    return problems


def check_raft(node: Any) -> str | None:
    """One line naming everything missing or mistyped against `RaftLike`, or None."""
    parts = []
    lacks = missing(node)
    if lacks:
        parts.append(f"the node lacks {', '.join(lacks)}")
    parts.extend(mistyped(node))
    if not parts:
        return None
    return ("; ".join(parts) + f" (the tester needs {', '.join(REQUIRED)}; "
            "see RaftLike in distlab/systems/raft/interface.py)")


def _is_collection(value: Any) -> bool:
    return not isinstance(value, str | bytes) and hasattr(value, "__iter__") and hasattr(value, "__contains__")


def lacking_optional(node: Any) -> set[str]:
    """The optional methods and attributes the node does not offer (their scenarios are
    skipped); a member set to None counts as lacking."""
    lacks = {name for name in OPTIONAL if not callable(getattr(node, name, None))}
    lacks.update(name for name in OPTIONAL_ATTRIBUTES if getattr(node, name, None) is None)
    return lacks


def describe_need(name: str) -> str:
    """How a skipped scenario names what it needs: `compact()`, or an attribute's gloss."""
    return OPTIONAL_ATTRIBUTES.get(name, f"{name}()")
