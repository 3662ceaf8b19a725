"""Kafka-style logs: Jepsen's kafka checker anomalies, for Maelstrom's kafka workload.

History shape (Jepsen's ``jepsen.tests.kafka``, as Maelstrom records it, so EDN
histories fit). ``f`` is ``"send"``, ``"poll"`` or ``"txn"``; ``value`` is a list of
micro-ops, usually one:

- send: invoke ``[["send", key, msg]]`` -> ok ``[["send", key, [offset, msg]]]``
  (an info/fail completion may carry the invocation's value: offset unknown).
- poll: invoke ``[["poll"]]`` -> ok ``[["poll", {key: [[offset, msg], ...]}]]``.
- ``{"f": "assign" | "subscribe", "value": [keys]}``: the client's keys change; a
  client's position on keys it drops is forgotten (Jepsen). distlab's assign (the
  client's ``list_committed_offsets``) completes with ``{"keys": [...],
  "committed": {key: offset}}``, the committed offsets the client seeks to.
- ``{"f": "commit_offsets", "value": {key: offset}}``: a client committed it had
  processed each key up to and including offset. Other ``f``s are only counted.
- Final reads (distlab's runner marks them ``"final": true`` on the invocation, with
  the ``"node"`` read) are polls.

Keys are compared as strings (JSON object keys are strings; Maelstrom's keys are),
``":send"``/``":poll"`` tags from EDN are accepted, and messages are assumed unique
per key (workloads send distinct messages), as Jepsen assumes.

What is known: the log of each key, offset -> messages, from ok sends and all polls.
Anomalies (a client is a ``process``; after an indeterminate op it is a new one):

- ``inconsistent_offsets``: two messages at one key/offset.
- ``duplicate``: one message at two offsets of a key.
- ``lost_write``: an ok send of m at offset o of key k, never polled, although some
  ok poll read k at offset >= o.
- ``unseen``: an ok send never polled at all (includes lost writes).
- ``poll_skip`` / ``nonmonotonic_poll``: between two consecutive polls of k by one
  client, the second starts past a known offset after where the first ended /
  starts at or before it. ``int_poll_skip`` / ``int_nonmonotonic_poll``: the same
  within one op. ``nonmonotonic_send`` / ``int_nonmonotonic_send``: a client's
  consecutive sends to k got offsets that do not increase (between / within ops).
  Skipped sends are normal (other clients interleave) and not reported.
- ``aborted_read``: a poll saw a message whose send definitely failed.
- ``unexpected``: a poll saw a message nobody sent (a send invoked and never
  completed counts as sent: its outcome is unknown, as an ``info`` one's).
- ``never_ok`` (only with ``stats=True``): an operation kind (send, poll, assign,
  commit_offsets, ...) that was tried and never succeeded, e.g. a node without
  ``list_committed_offsets``: every assign fails. Maelstrom's stats checker fails
  the test for this.
- ``committed_ahead`` (distlab's addition; Jepsen's checker has no commit check): an
  assign was told a committed offset L for key k, and k holds known messages past
  every offset committed for k before the assign completed (by commits not known to
  have failed) but before L. A consumer seeking to L skips them although nobody
  processed them. (Committed offsets going back is allowed: it only means reading
  again, and Maelstrom's reference-style nodes do it under races.)
- ``final_poll_failed`` (distlab's addition): a final reader none of whose polls
  succeeded: that node was never read at the end. Not an error by itself, but the
  verdict is then ``"unknown"`` rather than True.

Each anomaly has ``<name>_count`` and ``<name>`` (first examples, record indices).
``poll_skip`` and ``nonmonotonic_poll`` are reported but allowed when clients
``subscribe`` (the server may rebalance them), as in Jepsen. ``valid`` is False if
any other anomaly occurred (``final_poll_failed`` aside), else True, or ``"unknown"``
with no ok send or with a final reader that never polled.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from typing import Any

import orjson

from distlab.checkers._values import value_key
from distlab.checkers.pairing import calls
from distlab.history import FAIL, INFO, INVOKE, NEMESIS, OK

ANOMALIES = (
    "inconsistent_offsets", "duplicate", "lost_write", "unseen",
    "poll_skip", "nonmonotonic_poll", "int_poll_skip", "int_nonmonotonic_poll",
    "nonmonotonic_send", "int_nonmonotonic_send", "aborted_read", "unexpected",
    "never_ok", "committed_ahead", "final_poll_failed",
)
NOT_COUNTED_FS = frozenset({"crash", "debug-topic-partitions"})  # as Jepsen's kafka stats checker
SUBSCRIBE_ALLOWED = frozenset({"poll_skip", "nonmonotonic_poll"})
UNKNOWN_ONLY = frozenset({"final_poll_failed"})  # makes a verdict unknown, never False
EXAMPLES = 16
TXN_FS = frozenset({"send", "poll", "txn"})


def _key(k: Any) -> str:
    return k if isinstance(k, str) else orjson.dumps(k).decode()


def _tag(mop: Any) -> str:
    return str(mop[0]).lstrip(":") if isinstance(mop, list | tuple) and mop else ""


def _is_offset(o: Any) -> bool:
    return type(o) is int


def op_sends(value: Any) -> list[tuple[str, int | None, Any]]:
    """(key, offset or None, msg) per send micro-op, in order."""
    out: list[tuple[str, int | None, Any]] = []
    for mop in value if isinstance(value, list) else ():
        if _tag(mop) == "send" and len(mop) >= 3:
            k, v = _key(mop[1]), mop[2]
            if isinstance(v, list | tuple) and len(v) == 2 and (v[0] is None or _is_offset(v[0])):
                out.append((k, v[0], v[1]))
            else:
                out.append((k, None, v))
    return out


def op_polls(value: Any) -> dict[str, list[tuple[int, Any]]]:
    """key -> [(offset, msg), ...] over all poll micro-ops, in order."""
    out: dict[str, list[tuple[int, Any]]] = {}
    for mop in value if isinstance(value, list) else ():
        if _tag(mop) == "poll" and len(mop) >= 2 and isinstance(mop[1], dict):
            for k, pairs in mop[1].items():
                seq = out.setdefault(_key(k), [])
                for pair in pairs or ():
                    if isinstance(pair, list | tuple) and len(pair) == 2 and _is_offset(pair[0]):
                        seq.append((pair[0], pair[1]))
    return out


def assign_keys(value: Any) -> list[Any]:
    """The keys of an assign/subscribe: Jepsen's list, or distlab's {"keys": [...], ...}."""
    if isinstance(value, dict):
        value = value.get("keys")
    return list(value) if isinstance(value, list | tuple) else []


def _commit_offsets(value: Any) -> dict[str, int]:
    return {_key(k): o for k, o in value.items() if _is_offset(o)} if isinstance(value, dict) else {}


def check(history: list[dict[str, Any]], *, stats: bool = False) -> dict[str, Any]:
    """The anomalies above; ``never_ok`` only with ``stats`` (the kafka workload's own
    verdict, as Maelstrom runs Jepsen's stats checker next to the kafka checker)."""
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in ANOMALIES}
    # Completions of send/poll/txn with their sends and polls.
    ops: list[tuple[dict[str, Any], list[tuple[str, int | None, Any]], dict[str, Any]]] = []
    subscribed = False
    send_count = ok_send_count = poll_count = 0
    for rec in history:
        if rec["process"] == NEMESIS:
            continue
        f = str(rec["f"]).lstrip(":")
        if f == "subscribe" and rec["type"] == OK:
            subscribed = True
        if rec["type"] == INVOKE or f not in TXN_FS:
            continue
        sends, polls = op_sends(rec["value"]), op_polls(rec["value"])
        ops.append((rec, sends, polls))
        send_count += len(sends)
        if rec["type"] == OK:
            ok_send_count += len(sends)
            if isinstance(rec["value"], list) and any(_tag(m) == "poll" for m in rec["value"]):
                poll_count += 1

    # Who sent what: (key, msg) -> (status, record, offset).
    sent: dict[tuple[str, Any], tuple[str, dict[str, Any], int | None, Any]] = {}
    polled: dict[str, set[Any]] = defaultdict(set)  # key -> messages seen by ok polls
    max_polled: dict[str, tuple[int, dict[str, Any]]] = {}  # key -> highest offset, its poll
    for rec, sends, polls in ops:
        for k, o, m in sends:
            prev = sent.get((k, value_key(m)))
            if prev is None or prev[0] != OK:
                sent[(k, value_key(m))] = (rec["type"], rec, o, m)
        if rec["type"] == OK:
            for k, pairs in polls.items():
                for o, m in pairs:
                    polled[k].add(value_key(m))
                    if k not in max_polled or o > max_polled[k][0]:
                        max_polled[k] = (o, rec)
    for _, inv, _, done in calls(history):  # a send whose call never completed may have happened
        if done is None and str(inv["f"]).lstrip(":") in TXN_FS:
            for k, _o, m in op_sends(inv["value"]):
                sent.setdefault((k, value_key(m)), (INFO, inv, None, m))

    # The log: key -> offset -> {msg key: msg}; from ok sends and every poll.
    log: dict[str, dict[int, dict[Any, Any]]] = defaultdict(lambda: defaultdict(dict))
    for rec, sends, polls in ops:
        if rec["type"] == OK:
            for k, o, m in sends:
                if o is not None:
                    log[k][o][value_key(m)] = m
        for k, pairs in polls.items():
            for o, m in pairs:
                log[k][o][value_key(m)] = m
    known: dict[str, list[int]] = {k: sorted(offsets) for k, offsets in log.items()}

    for k in sorted(log):
        where: dict[Any, list[int]] = defaultdict(list)
        for o in known[k]:
            msgs = log[k][o]
            if len(msgs) > 1:
                found["inconsistent_offsets"].append(
                    {"key": k, "offset": o, "msgs": sorted(msgs.values(), key=orjson.dumps)})
            for mk in msgs:
                where[mk].append(o)
        for mk, offsets in where.items():
            if len(offsets) > 1:
                msg = log[k][offsets[0]][mk]
                found["duplicate"].append({"key": k, "msg": msg, "offsets": offsets})

    def between(k: str, lo: int, hi: int) -> list[int]:
        """Known offsets of k strictly between lo and hi."""
        offs = known.get(k, [])
        return offs[bisect_right(offs, lo):bisect_left(offs, hi)]

    # Polls and sends, within one op and between a client's consecutive ops.
    last_read: dict[Any, dict[str, tuple[int, dict[str, Any]]]] = defaultdict(dict)
    last_sent: dict[Any, dict[str, tuple[int, dict[str, Any]]]] = defaultdict(dict)
    parsed = {rec["index"]: (sends, polls) for rec, sends, polls in ops}
    for rec in history:
        if rec["process"] == NEMESIS or rec["type"] in (INVOKE, FAIL):
            continue
        f = str(rec["f"]).lstrip(":")
        p = rec["process"]
        if f in ("assign", "subscribe"):
            keep = {_key(k) for k in assign_keys(rec["value"])}
            last_read[p] = {k: v for k, v in last_read[p].items() if k in keep}
            last_sent[p] = {k: v for k, v in last_sent[p].items() if k in keep}
            continue
        if f not in TXN_FS or rec["index"] not in parsed:
            continue
        sends, polls = parsed[rec["index"]]
        for k, pairs in polls.items():
            for (o1, _), (o2, _) in zip(pairs, pairs[1:], strict=False):
                if o2 <= o1:
                    found["int_nonmonotonic_poll"].append(
                        {"key": k, "offsets": [o1, o2], "index": rec["index"], "process": p})
                elif skipped := between(k, o1, o2):
                    found["int_poll_skip"].append({"key": k, "offsets": [o1, o2],
                                                   "skipped": skipped[:EXAMPLES],
                                                   "index": rec["index"], "process": p})
            if not pairs:
                continue
            prev = last_read[p].get(k)
            if prev is not None:
                o1, o2 = prev[0], pairs[0][0]
                where = {"key": k, "offsets": [o1, o2], "indices": [prev[1]["index"], rec["index"]],
                         "process": p}
                if o2 <= o1:
                    found["nonmonotonic_poll"].append(where)
                elif skipped := between(k, o1, o2):
                    found["poll_skip"].append({**where, "skipped": skipped[:EXAMPLES]})
            if rec["type"] == OK:
                last_read[p][k] = (pairs[-1][0], rec)
        per_key: dict[str, list[int]] = defaultdict(list)
        for k, o, _ in sends:
            if o is not None:
                per_key[k].append(o)
        for k, offs in per_key.items():
            for o1, o2 in zip(offs, offs[1:], strict=False):
                if o2 <= o1:
                    found["int_nonmonotonic_send"].append(
                        {"key": k, "offsets": [o1, o2], "index": rec["index"], "process": p})
            prev = last_sent[p].get(k)
            if prev is not None and offs[0] <= prev[0]:
                found["nonmonotonic_send"].append(
                    {"key": k, "offsets": [prev[0], offs[0]],
                     "indices": [prev[1]["index"], rec["index"]], "process": p})
            last_sent[p][k] = (offs[-1], rec)

    # Writes: lost, unseen, and reads of writes that failed or never were.
    unseen_by_key: dict[str, list[Any]] = defaultdict(list)
    for (k, mk), (status, rec, o, m) in sent.items():
        if status != OK or mk in polled[k]:
            continue
        unseen_by_key[k].append(m)
        found["unseen"].append({"key": k, "msg": m, "offset": o, "index": rec["index"]})
        top = max_polled.get(k)
        if o is not None and top is not None and top[0] >= o:
            found["lost_write"].append({"key": k, "msg": m, "offset": o, "index": rec["index"],
                                        "max_read_offset": top[0], "max_read_index": top[1]["index"]})
    for rec, _, polls in ops:
        if rec["type"] != OK:
            continue
        for k, pairs in polls.items():
            for o, m in pairs:
                writer = sent.get((k, value_key(m)))
                if writer is None:
                    found["unexpected"].append({"key": k, "offset": o, "msg": m,
                                                "index": rec["index"]})
                elif writer[0] == FAIL:
                    found["aborted_read"].append({"key": k, "offset": o, "msg": m,
                                                  "index": rec["index"],
                                                  "send_index": writer[1]["index"]})

    _stats_and_commits(history, known, found, stats)

    allowed = SUBSCRIBE_ALLOWED if subscribed else frozenset()
    error_types = [n for n in ANOMALIES if found[n]]
    bad = [n for n in error_types if n not in allowed and n not in UNKNOWN_ONLY]
    if bad:
        valid: bool | str = False
    else:
        valid = True if ok_send_count and not found["final_poll_failed"] else "unknown"
    result: dict[str, Any] = {
        "valid": valid,
        "error_types": error_types,
        "bad_error_types": bad,
        "send_count": send_count,
        "ok_send_count": ok_send_count,
        "ok_poll_count": poll_count,
        "info_causes": sorted({orjson.dumps(r.get("error")).decode() for r, _, _ in ops
                               if r["type"] == INFO and r.get("error") is not None})[:EXAMPLES],
        "unseen_by_key": {k: len(v) for k, v in sorted(unseen_by_key.items())},
    }
    for name in ANOMALIES:
        result[f"{name}_count"] = len(found[name])
        result[name] = found[name][:EXAMPLES]
    return result


def _stats_and_commits(history: list[dict[str, Any]], known: dict[str, list[int]],
                       found: dict[str, list[dict[str, Any]]], stats: bool) -> None:
    """never_ok, committed_ahead and final_poll_failed (see the module docstring)."""
    # invocation index -> its completion's type
    fate = {inv["index"]: done["type"] for _, inv, _, done in calls(history) if done is not None}
    outcomes: dict[str, dict[str, int]] = {}
    finals: dict[Any, dict[str, Any]] = {}  # final reader's process -> {"inv": first invocation, "ok": bool}
    for rec in history:
        if rec["process"] == NEMESIS:
            continue
        f = str(rec["f"]).lstrip(":")
        if rec["type"] == INVOKE:
            if rec.get("final") or rec.get("final?"):
                finals.setdefault(rec["process"], {"inv": rec, "ok": False})
            continue
        if f not in NOT_COUNTED_FS:
            per = outcomes.setdefault(f, {OK: 0, FAIL: 0, INFO: 0})
            per[rec["type"]] = per.get(rec["type"], 0) + 1
        if rec["type"] == OK and rec["process"] in finals:
            finals[rec["process"]]["ok"] = True
    for f, per in sorted(outcomes.items()) if stats else ():
        if not per[OK]:
            found["never_ok"].append({"f": f, "fail": per[FAIL], "info": per[INFO]})
    for reader in finals.values():
        if not reader["ok"]:
            found["final_poll_failed"].append({"node": reader["inv"].get("node"),
                                               "process": reader["inv"]["process"],
                                               "index": reader["inv"]["index"]})

    committed: dict[str, int] = {}  # key -> highest offset committed so far (not known failed)
    for rec in history:
        if rec["process"] == NEMESIS:
            continue
        f = str(rec["f"]).lstrip(":")
        if f == "commit_offsets" and rec["type"] == INVOKE and fate.get(rec["index"]) != FAIL:
            for k, o in _commit_offsets(rec["value"]).items():
                committed[k] = max(committed.get(k, -1), o)
        elif f == "assign" and rec["type"] == OK and isinstance(rec["value"], dict):
            for k, listed in _commit_offsets(rec["value"].get("committed")).items():
                top = committed.get(k, -1)
                offs = known.get(k, [])
                skipped = offs[bisect_right(offs, top):bisect_left(offs, listed)]
                if skipped:
                    found["committed_ahead"].append(
                        {"key": k, "listed": listed, "max_committed": top if top >= 0 else None,
                         "skipped": skipped[:EXAMPLES], "skipped_count": len(skipped),
                         "index": rec["index"], "process": rec["process"]})
