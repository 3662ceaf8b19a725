"""Failure detector: each `suspects` answer judged against what the nemesis really did.

A failure detector is graded by the two properties Chandra and Toueg named:
completeness (a node that cannot be heard from is suspected soon enough) and
accuracy (a node that is up and reachable is not suspected). No detector can
be both at once and instantly, so each is judged with slack:

- completeness: if `sender` had been unheard by `node` (sender killed or paused,
  or the link sender -> node cut by a partition) for at least `detect_within`
  seconds when a `suspects` request reached `node`, and still was when it
  answered, the answer must name `sender`. The time `node` itself was down does
  not count: a node that just came back has had no chance to notice.
- accuracy: if during the `settle` seconds before the request and until the
  answer, neither node was down and the link between them was not cut either
  way, the answer must not name `sender`. Message loss is no excuse: a lossy
  link still carries heartbeats, and a node behind it has not failed.
- after the final heal every node must answer, and (settled) suspect nobody.

Values: an invocation's `{"node": n}` (the node asked); an ok's adds `"suspects"`.
"""

from __future__ import annotations

from typing import Any

from distlab.checkers.faults import Timeline, seconds
from distlab.checkers.pairing import calls
from distlab.history import OK

MAX_CASES = 10


def _why_unheard(tl: Timeline, node: str, sender: str, t: float) -> str:
    if tl.down_at(sender, t) is not None:
        return "down"
    return f"cut off from {node} by a partition"


def check(history: list[dict[str, Any]], detect_within: float = 2.0, settle: float = 2.0,
          nodes: tuple[str, ...] = ()) -> dict[str, Any]:
    tl = Timeline.from_history(history)
    missed: list[dict[str, Any]] = []
    false: list[dict[str, Any]] = []
    final_unanswered: list[str] = []
    answered = 0
    checked_failures = 0
    malformed = 0
    # every node: the run's, plus any the nemesis or an answer names
    all_nodes = set(nodes) | set(tl.down) | {n for pair in tl.cut for n in pair}
    answers = []
    for _, inv, _, done in calls(history):
        if inv.get("f") != "suspects":
            continue
        node = str((inv.get("value") or {}).get("node") or inv.get("node") or "")
        if done is None or done.get("type") != OK:
            if inv.get("final"):
                final_unanswered.append(node)
            continue
        value = done.get("value") or {}
        suspects = value.get("suspects")
        if not isinstance(suspects, list):
            malformed += 1
            continue
        answered += 1
        all_nodes.add(node)
        answers.append((node, seconds(inv), seconds(done), {str(s) for s in suspects}))
    for *_, suspects in answers:
        all_nodes |= suspects
    for node, start, end, suspects in answers:
        for sender in sorted(all_nodes - {node}, key=str):
            unheard = [(a, b) for a, b in tl.unheard(node, sender) if a <= start and end <= b]
            if unheard:
                since = max(unheard[0][0], tl.up_since(node, end))
                if start - since >= detect_within:
                    checked_failures += 1
                    if sender not in suspects:
                        missed.append({"node": node, "sender": sender, "time": round(start, 3),
                                       "since": round(unheard[0][0], 3),
                                       "why": _why_unheard(tl, node, sender, start)})
                continue
            if sender in suspects and not tl.link_faulted(node, sender, start - settle, end):
                false.append({"node": node, "sender": sender, "time": round(start, 3),
                              "healthy_since": round(max(0.0, _healthy_since(tl, node, sender, start)), 3)})
    valid = not missed and not false and not final_unanswered and not malformed
    explanation = None
    if missed:
        m = missed[0]
        explanation = (f"{m['node']} did not suspect {m['sender']} at t={m['time']:.1f} s, though {m['sender']} had "
                       f"been {m['why']} since t={m['since']:.1f} s (a node unheard for {detect_within:g} s must be "
                       f"suspected): missed failure")
    elif false:
        m = false[0]
        explanation = (f"{m['node']} suspected {m['sender']} at t={m['time']:.1f} s, though {m['sender']} was up and "
                       f"reachable from {m['node']}, with no fault between them since t={m['healthy_since']:.1f} s: "
                       f"false suspicion")
    elif final_unanswered:
        explanation = (f"{final_unanswered[0]} did not answer its final suspects request after the faults healed "
                       f"(every node must answer once the cluster is whole)")
    elif malformed:
        explanation = f"{malformed} suspects answer(s) had no list of node ids in 'suspects'"
    return {
        "valid": valid,
        "answered_count": answered,
        "failures_checked": checked_failures,
        "detect_within": detect_within,
        "settle": settle,
        "missed_count": len(missed),
        "false_count": len(false),
        "missed": missed[:MAX_CASES],
        "false_suspicions": false[:MAX_CASES],
        "final_unanswered": final_unanswered,
        "malformed_count": malformed,
        **({"explanation": explanation} if explanation else {}),
    }


def _healthy_since(tl: Timeline, node: str, sender: str, t: float) -> float:
    """When the last fault between the two ended before t (0.0 if there was none)."""
    ends = [b for a, b in tl.down.get(node, []) + tl.down.get(sender, []) + tl.cut.get((node, sender), [])
            + tl.cut.get((sender, node), []) if b <= t]
    return max(ends, default=0.0)
