"""Request validation: every good request answered right, every malformed one refused
with the right error code (echo-validation and schema-validation workloads).

History shape: ``{"f": "call", "value": {"request": body, "expect": "ok" | 10 | 12,
"why": words}}`` invoked; completed ok with ``value`` = the reply body (less
msg_id/in_reply_to), or fail/info with ``error`` = [code, text] (code 0: no reply in time).

What a good request's reply must hold is computed from the request itself
(``echo`` -> ``echo_ok`` with the same text, ``add`` -> ``add_ok`` with ``sum``,
``join`` -> ``join_ok`` with ``text``). The kinds of failure, worst first:

- *accepted*: a malformed request answered as if it were fine;
- *crashed*: error 13 (crash), to a malformed or good request: a handler raised;
- *wrong_code*: an error with another code than the one due (10 for an unknown type,
  12 for a known type with bad fields);
- *rejected*: a good request refused with an error;
- *wrong_answer*: a good request answered with the wrong type or content;
- *unanswered*: no reply in time, or none at all.

``unknown_types`` lists the types sent on purpose to get error 10, so that the
learner-facing reasons do not report those replies as a missing handler.

``valid`` is False on any of them, True otherwise (the stats checker separately
requires some good request to succeed).
"""

from __future__ import annotations

from typing import Any

import orjson

from distlab.checkers.pairing import calls
from distlab.history import OK
from distlab.protocol import error_name

EXAMPLES = 8
ANOMALIES = ("accepted", "crashed", "wrong_code", "rejected", "wrong_answer", "unanswered")


def expected_reply(request: dict[str, Any]) -> dict[str, Any] | None:
    """The reply a good request must get (its fields, beyond msg_id/in_reply_to)."""
    kind = request.get("type")
    if kind == "echo":
        return {"type": "echo_ok", "echo": request.get("echo")}
    if kind == "add":
        return {"type": "add_ok", "sum": request["a"] + request["b"]}
    if kind == "join":
        return {"type": "join_ok", "text": request.get("sep", " ").join(request["parts"])}
    return None


def _json(v: Any) -> str:
    text = orjson.dumps(v).decode()
    return text if len(text) <= 60 else text[:57] + "..."


def _what(request: dict[str, Any], why: str, expect: Any) -> str:
    """A request in words: 'a malformed "add" request (field 'a' is a boolean, not an integer)'."""
    kind = request.get("type")
    if expect == 10:
        return f"a request of unknown type {kind!r}"
    adjective = "good" if expect == "ok" else "malformed"
    return f"a {adjective} {kind!r} request" + (f" ({why})" if why else "")


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _code_words(code: Any) -> str:
    return f"error {code} ({error_name(code)})" if isinstance(code, int) else f"error {code!r}"


def _mismatch(got: dict[str, Any], want: dict[str, Any]) -> str | None:
    """How a reply differs from the one due, in words; None when it does not."""
    if got.get("type") != want["type"]:
        return f"answered {got.get('type')!r}, not {want['type']!r}"
    for key, value in want.items():
        if key == "type":
            continue
        if key not in got:
            return f"answered {want['type']} without {key!r}"
        if got[key] != value or type(got[key]) is not type(value):
            return f"answered {key}={_json(got[key])}, expected {_json(value)}"
    return None


def check(history: list[dict[str, Any]]) -> dict[str, Any]:
    found: dict[str, list[dict[str, Any]]] = {k: [] for k in ANOMALIES}
    counts = {"good": 0, "malformed": 0, "unknown_type": 0}
    unknown_types: set[str] = set()
    for _, inv, _, done in calls(history):
        if inv["f"] != "call" or not isinstance(inv["value"], dict):
            continue
        case = inv["value"]
        request, expect, why = case.get("request") or {}, case.get("expect"), case.get("why", "")
        counts["good" if expect == "ok" else "unknown_type" if expect == 10 else "malformed"] += 1
        if expect == 10:
            unknown_types.add(str(request.get("type")))
        what = _what(request, why, expect)
        at = round(inv["time"] / 1e9, 3)

        def add(kind: str, sentence: str) -> None:
            found[kind].append({"time": at, "request": request, "sentence": sentence})  # noqa: B023

        if done is None:
            add("unanswered", f"{what} got no reply at all (unanswered)")
            continue
        if done["type"] == OK:
            reply = done["value"] if isinstance(done["value"], dict) else {}
            if expect != "ok":
                add("accepted", f"{what} was answered {reply.get('type')!r} as if it were fine; it must get "
                                f"{_code_words(expect)}")
                continue
            want = expected_reply(request)
            diff = _mismatch(reply, want) if want is not None else None
            if diff is not None:
                add("wrong_answer", f"{what} was {diff} (wrong answer)")
            continue
        error = done.get("error")
        code = error[0] if isinstance(error, list) and error else error
        text = error[1] if isinstance(error, list) and len(error) > 1 else ""
        if code == 0:
            add("unanswered", f"{what} got no reply in time (unanswered)")
        elif code == "malformed-reply":
            add("wrong_answer", f"{what} got a reply the client could not read: {_clip(str(text))}")
        elif code == 13:
            add("crashed", f"{what} got error 13 (crash): the handler raised"
                           + (f" ({_clip(str(text))})" if text else "")
                           + (f"; it must get {_code_words(expect)}" if expect != "ok" else ""))
        elif expect == "ok":
            add("rejected", f"{what} was rejected with {_code_words(code)}; it must be answered")
        elif code != expect:
            add("wrong_code", f"{what} got {_code_words(code)}; it must get {_code_words(expect)}")

    bad = {k: v for k, v in found.items() if v}
    result: dict[str, Any] = {
        "valid": not bad,
        **{f"{k}_count": len(v) for k, v in found.items()},
        "good_count": counts["good"],
        "malformed_count": counts["malformed"],
        "unknown_type_count": counts["unknown_type"],
        "unknown_types": sorted(unknown_types),  # sent on purpose: their error 10 is no node error
        **{k: v[:EXAMPLES] for k, v in found.items()},
    }
    if bad:
        lines = []
        for kind in ANOMALIES:
            cases = found[kind]
            if cases:
                more = f" ({len(cases) - 1} more like it)" if len(cases) > 1 else ""
                lines.append(f"at t={cases[0]['time']} s, {cases[0]['sentence']}{more}")
        result["explanation"] = "\n".join(lines)
    return result
