"""Node errors: what went wrong inside the nodes, counted for the summary and results.json.

A node that crashes on every request must never look clean, so three sources
are merged, per node:

- SDK nodes write a tagged line (`distlab.node.core.SDK_TAG` + JSON) to their
  log for each handler exception, request left without a reply and message of
  an unknown type; each runtime feeds those lines to `NodeEvents.feed` as they
  are logged (the simulator from the log call, process mode from stderr).
- The runner counts the error replies clients got: code 13 (crash) and 10 (not
  supported), per node and request type: all there is for a node not written
  with the SDK.
- The wire's protocol errors (garbage on stdout, unknown destinations, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from distlab.fail import RECORD_EVENT
from distlab.node.core import SDK_TAG

_TAG = SDK_TAG.encode()
CRASH_CODE = 13
NOT_SUPPORTED_CODE = 10
KIND_ORDER = ("handler", "bad-reply", "no-reply", "not-supported", "crash-reply", "periodic", "task", "protocol")
"""How node_errors is ordered within a node: request handling first."""


@dataclass
class Tally:
    """One kind of error at one node: how often, and its first occurrence."""

    count: int
    first_at: float
    where: str = ""
    code: str = ""
    text: str = ""


class NodeEvents:
    """Tagged SDK log lines, client error replies and protocol errors, as they happen."""

    def __init__(self) -> None:
        self.groups: dict[tuple[str, str, str, str], Tally] = {}  # (node, kind, type, exception)
        self.no_reply: dict[tuple[str, str], list[tuple[str, Any]]] = {}  # (node, type) -> requests
        self.no_reply_first: dict[tuple[str, str], float] = {}
        self.replies: dict[tuple[str, str, int], Tally] = {}  # (node, request type, code) -> error replies
        self.replies_later: set[str] = set()  # request types some node answered after its handler returned
        self.unreadable = 0  # tagged lines that did not parse (a node printing the tag itself)
        # a fail point's record (a counted step taken, a panic): not an error, for the runner
        self.on_failpoint: Callable[[str, float, dict[str, Any]], None] | None = None

    def _add(self, key: tuple[str, str, str, str], at: float, rec: dict[str, Any]) -> None:
        tally = self.groups.get(key)
        if tally is None:
            self.groups[key] = Tally(1, at, str(rec.get("where") or ""), str(rec.get("code") or ""),
                                     str(rec.get("text") or ""))
        else:
            tally.count += 1

    def feed(self, node: str, at: float, line: str | bytes) -> bool:
        """One log line (or the first of several); True if it was an SDK record."""
        if isinstance(line, str):
            if not line.startswith(SDK_TAG):
                return False
            line = line.encode("utf-8", "replace")
        elif not line.startswith(_TAG):
            return False
        try:
            rec = orjson.loads(line[len(_TAG):].split(b"\n", 1)[0])
            event, name = str(rec["event"]), str(rec["type"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self.unreadable += 1
            return True
        if event == "no-reply":
            key2 = (node, name)
            self.no_reply.setdefault(key2, []).append((str(rec.get("src")), rec.get("msg_id")))
            self.no_reply_first.setdefault(key2, at)
        elif event == "unknown-type":
            how = "answered" if rec.get("msg_id") is not None else "dropped"
            self._add((node, "not-supported", name, how), at, rec)
        elif event in ("handler", "periodic", "task", "bad-reply"):
            self._add((node, event, name, str(rec.get("exception") or "")), at, rec)
        elif event == "replied-later":
            self.replies_later.add(name)
        elif event == RECORD_EVENT and self.on_failpoint is not None:
            self.on_failpoint(node, at, rec)
        return True

    def protocol(self, node: str, at: float, text: str) -> None:
        """A protocol error the wire reported (the node's log says it too)."""
        key = (node, "protocol", "", text)
        tally = self.groups.get(key)
        if tally is None:
            self.groups[key] = Tally(1, at, text=text)
        else:
            tally.count += 1

    def reply_error(self, node: str, msg_type: str, code: int, at: float, text: str) -> None:
        """A client got an error reply with code 13 or 10 from `node`."""
        key = (node, msg_type, code)
        tally = self.replies.get(key)
        if tally is None:
            self.replies[key] = Tally(1, at, text=text)
        else:
            tally.count += 1


def _times(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


_RAISERS = {"handler": "handler", "periodic": "periodic", "task": "background task"}


def describe(e: dict[str, Any]) -> str:
    """What went wrong, in words, without the node or the time (shared by both views)."""
    kind, name, count = e["kind"], e["type"], e["count"]
    if kind in _RAISERS:
        place = f" at {e['where']}" if e.get("where") else ""
        return f"{_RAISERS[kind]} '{name}' raised {e['exception']}: {e['text']} —{place}, {_times(count, 'time', 'times')}"
    if kind == "bad-reply":  # the text says why (not JSON, no type): the fix is in it
        why = f" ({e['text']})" if e.get("text") else ""
        return (f"handler '{name}' {e['exception']}{why}: {_times(count, 'request', 'requests')} "
                "answered error 13 (crash)")
    if kind == "no-reply":
        parts = []
        if e.get("timed_out"):
            parts.append(f"{_times(e['timed_out'], 'request', 'requests')} timed out")
        if e.get("from_nodes"):
            parts.append(f"{_times(e['from_nodes'], 'request', 'requests')} from other nodes got no reply")
        return f"handler '{name}' returned None and sent no reply: {', '.join(parts)}"
    if kind == "not-supported":
        if e["exception"] == "dropped":
            return f"no handler for '{name}': {_times(count, 'message', 'messages')} dropped"
        return f"no handler for '{name}': {_times(count, 'request', 'requests')} answered error 10 (not supported)"
    if kind == "crash-reply":
        return f"{count} '{name}' {'request' if count == 1 else 'requests'} answered error 13 (crash): {e['text']}"
    return e["text"] + (f" (x{count})" if count > 1 else "")  # protocol


def silent_handlers(events: NodeEvents, unanswered: set[tuple[str, Any]], clients: set[str]
                    ) -> dict[tuple[str, str], tuple[int, int]]:
    """(node, type) -> (client requests timed out, node requests unanswered) for handlers
    that returned None without replying, decided from what really got a reply.

    A type is not blamed at all when any of its requests was answered after its
    handler returned None (by node.reply later, or by another node the request
    was forwarded to): that handler defers on purpose, and the ones that went
    unanswered were lost to faults, not forgotten.
    """
    deferring = set(events.replies_later)
    for (_node, name), requests in events.no_reply.items():
        if any(key[0] in clients and key not in unanswered for key in requests):
            deferring.add(name)
    found = {}
    for (node, name), requests in sorted(events.no_reply.items()):
        if name in deferring:
            continue
        timed_out = sum(1 for key in requests if key[0] in clients and key in unanswered)
        from_nodes = sum(1 for key in requests if key[0] not in clients)
        if timed_out or from_nodes:
            found[(node, name)] = (timed_out, from_nodes)
    return found


def node_error_list(events: NodeEvents, unanswered: set[tuple[str, Any]], clients: set[str]) -> list[dict[str, Any]]:
    """results.json's `node_errors`: one entry per node, kind, message type and exception.

    `unanswered` holds the (client, msg_id) of every client request that never got
    a reply (timed out, or still pending at the end): a handler that returned None
    is blamed only for requests that really went unanswered.
    """
    entries: list[dict[str, Any]] = []

    def add(node: str, kind: str, msg_type: str, exception: str, tally: Tally, **extra: Any) -> None:
        entries.append({
            "node": node, "kind": kind, "type": msg_type or None, "exception": exception or None,
            "count": tally.count, "first_at": round(tally.first_at, 6), "where": tally.where or None,
            "code": tally.code or None, "text": tally.text, **extra,
        })

    sdk_keys: set[tuple[str, str, str]] = set()  # (node, kind, type) the SDK reported itself
    for (node, kind, name, exception), t in events.groups.items():
        sdk_keys.add((node, kind, name))
        add(node, kind, name, "" if kind == "protocol" else exception, t)

    for (node, name), (timed_out, from_nodes) in silent_handlers(events, unanswered, clients).items():
        tally = Tally(timed_out + from_nodes, events.no_reply_first[(node, name)],
                      text="handler returned None and sent no reply")
        add(node, "no-reply", name, "", tally, timed_out=timed_out, from_nodes=from_nodes)

    # Error replies clients got: the only evidence for a node not written with the SDK.
    for (node, name, code), t in events.replies.items():
        if code == NOT_SUPPORTED_CODE:
            if (node, "not-supported", name) not in sdk_keys:
                add(node, "not-supported", name, "answered", t)
        elif not any((node, kind, name) in sdk_keys for kind in ("handler", "bad-reply")):
            add(node, "crash-reply", name, "error 13", t)

    entries.sort(key=lambda e: (e["node"], KIND_ORDER.index(e["kind"]), e["type"] or "", e["exception"] or ""))
    for e in entries:
        e["message"] = f"{e['node']}: {describe(e)} (first at {e['first_at']:.3f} s)"
    return entries


def _nodes(nodes: list[str]) -> str:
    return ", ".join(nodes) if len(nodes) <= 6 else f"{', '.join(nodes[:5])} and {len(nodes) - 5} more"


def summary_rows(entries: list[dict[str, Any]]) -> list[str]:
    """The summary's node-error rows: entries that differ only by node share one row, counts summed."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for e in entries:
        same = (e["kind"], e["type"], e["exception"], e["where"], e["text"] if e["kind"] == "protocol" else None)
        groups.setdefault(same, []).append(e)
    rows = []
    for group in groups.values():
        if len(group) == 1:
            rows.append(group[0]["message"])
            continue
        first = min(group, key=lambda e: e["first_at"])
        total = dict(first)
        for field in ("count", "timed_out", "from_nodes"):
            if field in first:
                total[field] = sum(e[field] for e in group)
        nodes = _nodes([e["node"] for e in group])
        rows.append(f"{describe(total)} (on {nodes}; first at {first['first_at']:.3f} s on {first['node']})")
    return rows


def verdict_note(events: NodeEvents, unanswered: set[tuple[str, Any]], clients: set[str]) -> str | None:
    """Said next to the verdict when client requests failed because a node's code broke."""
    crashed: dict[str, int] = {}
    for (node, _name, code), t in events.replies.items():
        if code == CRASH_CODE:
            crashed[node] = crashed.get(node, 0) + t.count
    silent: dict[str, int] = {}
    for (node, _name), (timed_out, _from_nodes) in silent_handlers(events, unanswered, clients).items():
        if timed_out:
            silent[node] = silent.get(node, 0) + timed_out
    parts = []
    if crashed:
        total = sum(crashed.values())
        who = ", ".join(f"{node} {n}" for node, n in sorted(crashed.items()))
        parts.append(f"{_times(total, 'client request', 'client requests')} got error 13 because a handler raised ({who})")
    if silent:
        total = sum(silent.values())
        who = ", ".join(f"{node} {n}" for node, n in sorted(silent.items()))
        parts.append(f"{_times(total, 'client request', 'client requests')} timed out because a handler "
                     f"returned None ({who})")
    return "; ".join(parts) if parts else None
