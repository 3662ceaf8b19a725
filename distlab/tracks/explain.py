"""A run's results.json in sentences a learner can act on ("message 17 was acknowledged
but missing from n1's final read"), never raw JSON: `distlab check` prints the first."""

from __future__ import annotations

from typing import Any

KAFKA_WORDS = {
    "lost_write": "an acknowledged send was never seen by a poll that read past its offset",
    "unseen": "an acknowledged send was never returned by any poll",
    "inconsistent_offsets": "two different messages were given the same offset of one key",
    "duplicate": "one message appeared at two offsets of a key",
    "poll_skip": "a poll skipped over offsets another client saw",
    "nonmonotonic_poll": "a poll went backwards in a key's offsets",
    "int_poll_skip": "one poll's messages skipped over offsets that hold messages (a hole)",
    "int_nonmonotonic_poll": "one poll's messages went backwards in a key's offsets",
    "nonmonotonic_send": "a client's later send to a key got an offset no higher than its earlier one",
    "int_nonmonotonic_send": "one operation's sends to a key got offsets that do not increase",
    "aborted_read": "a poll returned a message whose send had failed",
    "unexpected": "a poll returned a message nobody sent",
    "never_ok": "an operation never succeeded",
    "committed_ahead": "a consumer was told to resume past messages no consumer had committed as processed",
}

TXN_WORDS = {  # most severe first: the one a learner should fix first is explained
    "internal": "a transaction read something other than what it had itself just written",
    "G0": "two transactions' writes interleaved in a cycle (dirty write)",
    "G1a": "a transaction read a value written by one that aborted",
    "G1b": "a transaction read a value that its writer later overwrote before committing",
    "G1c": "transactions saw each other's writes in a cycle",
    "dirty-update": "a write built on a value from an aborted transaction",
    "lost-update": "two transactions read the same value and both overwrote it: one update was lost",
    "G-single": "a transaction saw some of another's writes but missed others (read skew)",
    "G2-item": "two transactions each missed the other's write (write skew)",
    "G-nonadjacent": "a cycle of dependencies that no serial order explains",
    "incompatible-order": "two reads of one list disagree on the order of its elements",
    "future-read": "a transaction read a value before it was written",
}


def _v(value: Any) -> str:
    """A value as a learner would write it (short)."""
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "..."


def _few(names: list[str], most: int = 5) -> str:
    """A list of nodes a sentence can carry: 25 names would bury the rest of the reason."""
    return ", ".join(names) if len(names) <= most else f"{', '.join(names[:most])} and {len(names) - most} more"


def _set_full(w: dict[str, Any]) -> list[str]:
    out: list[str] = []
    finals = [m for m in w.get("final_missing") or [] if m.get("missing")]
    if finals:
        miss = finals[0]
        more = miss.get("missing_count", 1) - 1
        others = sorted({str(m.get("node")) for m in finals[1:]} - {str(miss.get("node"))},
                        key=lambda n: (len(n), n))  # n2 before n10
        out.append(f"message {_v(miss['missing'][0])} was acknowledged but missing from {miss.get('node') or 'a node'}'s "
                   f"final read" + (f" ({more} more missing there)" if more > 0 else "")
                   + (f"; the final reads of {_few(others)} missed messages too" if others else "") + " (lost)")
    lost = w.get("lost") or []
    if lost:
        more = w.get("lost_count", len(lost)) - 1
        out.append(f"message {_v(lost[0])} was acknowledged, then missing from every later read: it was lost"
                   + (f" ({more} more lost)" if more > 0 else ""))
    if w.get("linearizable") and w.get("stale"):
        worst = (w.get("worst_stale") or [{}])[0]
        out.append(f"stale read: message {_v(w['stale'][0])} was known to be added but a later read missed it"
                   + (f" ({worst['stable_latency_ms']:.0f} ms stale)" if "stable_latency_ms" in worst else ""))
    for dup in (w.get("duplicated") or [])[:1]:
        value, times = (dup if isinstance(dup, (list, tuple)) and len(dup) == 2 else (dup, "several"))
        out.append(f"message {_v(value)} appeared {times} times in one read (duplicated)")
    if w.get("unexpected"):
        out.append(f"a read returned {_v(w['unexpected'][0])}, which nobody added (unexpected)")
    if w.get("malformed_read_count"):
        out.append(f"{w['malformed_read_count']} read(s) returned something that is not a list of messages")
    return out


def _ranges(allowed: Any) -> str:
    """[[lo, hi], ...] or [lo, hi] in words: "2376", "10 to 12", "3 or 5 to 6"."""
    if not isinstance(allowed, list) or not allowed:
        return _v(allowed)
    pairs = allowed if isinstance(allowed[0], list) else [allowed]
    words = []
    for pair in pairs[:3]:
        lo, hi = (pair + [None, None])[:2] if isinstance(pair, list) else (pair, pair)
        words.append(f"{lo}" if lo == hi else f"at least {lo}" if hi is None else f"{lo} to {hi}")
    return " or ".join(words) + (" or ..." if len(pairs) > 3 else "")


def _counter(w: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for e in (w.get("errors") or [])[:1]:
        kind, allowed = e.get("kind", "wrong value"), e.get("allowed")
        if kind == "final":
            out.append(f"the final read{' on ' + str(e['node']) if e.get('node') else ''} returned {_v(e.get('value'))} but the counter "
                       f"should be {_ranges(allowed)} by then (the sum of the acknowledged adds): final")
        else:
            out.append(f"a read returned {_v(e.get('value'))} but the counter could only be {_ranges(allowed)} "
                       f"then ({kind})")
    final = w.get("final") or {}
    if final and not out and final.get("values") is not None and final.get("acceptable"):
        out.append(f"the final reads returned {_v(final['values'])} but the counter should be in "
                   f"{_v(final['acceptable'])} (the sum of the acknowledged adds)")
    return out


def _kafka(w: dict[str, Any]) -> list[str]:
    out = []
    for name in w.get("bad_error_types") or []:
        count = w.get(f"{name}_count", 0)
        case = (w.get(name) or [{}])[0]
        where = ""
        if isinstance(case, dict) and "key" in case:
            where = f" (key {_v(case['key'])}" + (f", offset {case['offset']}" if "offset" in case else "") + ")"
        out.append(f"kafka {name}: {KAFKA_WORDS.get(name, 'anomaly')}{where}, {count} case(s)")
    return out


def _workload(w: Any) -> list[str]:
    """The reasons a workload verdict is not valid, from whatever checker made it."""
    if not isinstance(w, dict) or w.get("valid") is True:
        return []
    out: list[str] = []
    for m in (w.get("mismatched") or [])[:1]:
        got = "a reply without an 'echo' field" if m.get("got") is None else repr(m.get("got"))
        out.append(f"echo request {m.get('sent')!r} got back {got} "
                   "(the reply's echo must be the request's text)")
    if "final_missing" in w or "lost" in w:
        out += _set_full(w)
    if w.get("duplicated") and "acknowledged_count" in w and "lost" not in w:
        value, times = w["duplicated"][0]
        out.append(f"duplicate id: {_v(value)} was handed out {times} times (ids must be unique)")
    if "definite_sum" in (w.get("final") or {}) or "add_count" in w:
        out += _counter(w)
    if "bad_error_types" in w:
        out += _kafka(w)
    if w.get("anomaly_types"):
        types = list(w["anomaly_types"])
        worst = next((t for t in TXN_WORDS if t in types), None)
        out.append(f"transaction anomalies: {', '.join(types)}"
                   + (f" ({worst}: {TXN_WORDS[worst]})" if worst else ""))
    explanation = w.get("explanation")
    if explanation:
        lines = [ln.strip() for ln in str(explanation).splitlines() if ln.strip()]
        op = next((ln for ln in lines if ln.startswith("cannot linearize")), None)
        out.append(f"not linearizable: {op.removeprefix('cannot linearize: ')} could not be linearized"
                   if op else lines[0])
    for key, part in w.items():
        if isinstance(part, dict) and "valid" in part and key not in ("final",):
            out += _workload(part)
    if not out and w.get("error"):
        out.append(str(w["error"]))
    if not out and w.get("valid") is not True:
        out.append("the checker found no stable result (nothing was read back after it was acknowledged?)"
                   if w.get("valid") == "unknown" else "the checker rejected the history")
    return out


def reasons(results: dict[str, Any]) -> list[str]:
    """Every reason a run is not valid, most telling first: the run's own error, node
    errors (a handler raised), the stats check, the workload's checker, availability."""
    out: list[str] = []
    if results.get("error"):
        out.append(f"the run stopped: {results['error']}")
    stopped = str(results.get("error") or "")
    errors = [e for e in results.get("node_errors") or []  # the run's stop already says it
              if not (stopped and isinstance(e, dict) and len(str(e.get("text") or "")) >= 15
                      and str(e["text"]) in stopped)]
    for e in errors[:1]:
        out.append(f"node error: {e.get('message') or e}")
    stats = results.get("stats") or {}
    for e in stats.get("errors") or []:
        out.append(f"stats: {e}")
    out += _workload(results.get("workload"))
    avail = results.get("availability") or {}
    if avail.get("valid") is False and avail.get("required") is not None:
        got, need = float(avail["ok_fraction"]), float(avail["required"])
        digits = next((d for d in range(3, 8) if round(got, d) < round(need, d)), 8)
        bad = stats.get("count", 0) - stats.get("ok", 0)
        out.append(f"availability {got:.{digits}f} is below the required {need:.{digits}f}"
                   + (f" ({bad} of {stats['count']} requests failed or timed out)" if stats.get("count") else ""))
    if not out and results.get("valid") is not True:
        out.append(f"the verdict is {results.get('valid')!r}")
    unique: list[str] = []
    for text in out:  # the run's error often repeats a node error: say each thing once
        if not any(text.split(": ", 1)[-1] in seen for seen in unique):
            unique.append(text)
    return unique


def target_misses(results: dict[str, Any], targets: dict[str, float]) -> list[str]:
    """The targets a valid run missed, e.g. "msgs-per-op 54.5 > 20 target"."""
    out: list[str] = []
    net = results.get("net") or {}
    lat = (results.get("workload") or {}).get("stable_latencies") or {}
    avail = results.get("availability") or {}
    if "msgs_per_op_max" in targets:
        got = float(net.get("msgs_per_op", 0.0))
        if got > targets["msgs_per_op_max"]:
            out.append(f"msgs-per-op {got:.1f} > {targets['msgs_per_op_max']:g} target")
    for key, q, words in (("stable_latency_median_ms_max", "0.5", "median"),
                          ("stable_latency_max_ms_max", "1", "max")):
        if key in targets:
            got_q = lat.get(q, lat.get("1.0") if q == "1" else None)
            if got_q is None:
                out.append(f"stable latency {words}: no message became stable to measure")
            elif got_q > targets[key]:
                out.append(f"stable latency {words} {got_q:.0f} ms > {targets[key]:g} ms target")
    if "availability_min" in targets:
        got = float(avail.get("ok_fraction", 0.0))
        if got < targets["availability_min"]:
            out.append(f"availability {got:.3f} < {targets['availability_min']:g} target")
    return out
