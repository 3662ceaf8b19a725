"""Leader election: each `leader` answer (who leads, in which term) judged against the others
and against what the nemesis did.

- one leader per term: two answers naming different leaders for the same term mean two
  nodes were elected in it (split brain);
- terms never go back: once a node's answer completed with term t, its later answers
  (invoked after that) carry a term >= t, restarts included (a forgotten term lets a node
  vote twice);
- no dead leader: an answer invoked after the named leader had been down (killed or
  paused) for `detect_within` seconds (while the answering node was up), and before
  it came back, names a leader that cannot lead;
- no flapping: within a stretch with no fault at all, once `settle` seconds have passed,
  the answers name one leader (one term) at most;
- after the final heal every node answers and all name the same leader (with
  `highest_wins`, the highest node id, as the bully algorithm elects);
- with `no_disruption`: a leader is never deposed while it is healthy, that is up and
  connected both ways to a majority (itself included), with no loss burst on, from a
  second before the last answer naming it until the first answer naming a newer
  term's leader. A node back from a partition must not unseat it (Raft's pre-vote).

Terms are optional unless `terms` is set (the bully algorithm has none); without them
the leader itself stands in for the term in the flapping rule.
Values: an invocation's `{"node": n}`; an ok's adds `"leader"` (a node id or None) and
`"term"` (an int or None).
"""

from __future__ import annotations

from typing import Any

from distlab.checkers.faults import Timeline, node_order, seconds
from distlab.checkers.pairing import calls
from distlab.history import OK

MAX_CASES = 10


def _term_words(term: Any) -> str:
    return f" (term {term})" if term is not None else ""


def check(history: list[dict[str, Any]], detect_within: float = 4.0, settle: float = 4.0,
          terms: bool = True, highest_wins: bool = False, nodes: tuple[str, ...] = (),
          no_disruption: bool = False) -> dict[str, Any]:
    tl = Timeline.from_history(history)
    answers: list[tuple[str, float, float, Any, Any, bool]] = []  # node, start, end, leader, term, final
    final_unanswered: list[str] = []
    malformed: list[str] = []
    for _, inv, _, done in calls(history):
        if inv.get("f") != "leader":
            continue
        node = str((inv.get("value") or {}).get("node") or inv.get("node") or "")
        if done is None or done.get("type") != OK:
            if inv.get("final"):
                final_unanswered.append(node)
            continue
        value = done.get("value") or {}
        leader, term = value.get("leader"), value.get("term")
        if (leader is not None and not isinstance(leader, str)) or (
                term is not None and (not isinstance(term, int) or isinstance(term, bool))):
            malformed.append(f"{node} answered leader={leader!r}, term={term!r}")
            continue
        if terms and term is None:
            malformed.append(f"{node} answered without a term")
            continue
        answers.append((node, seconds(inv), seconds(done), leader, term, bool(inv.get("final"))))

    problems: dict[str, list[dict[str, Any]]] = {"two_leaders": [], "term_went_back": [], "dead_leader": [],
                                                 "flapping": [], "disrupted": [], "final": []}
    sentences: dict[str, str] = {}

    # one leader per term
    first_for_term: dict[Any, tuple[str, str, float]] = {}
    for node, start, _end, leader, term, _ in sorted(answers, key=lambda a: a[1]):
        if leader is None or term is None:
            continue
        seen = first_for_term.setdefault(term, (leader, node, start))
        if seen[0] != leader:
            problems["two_leaders"].append({"term": term, "leaders": [seen[0], leader], "nodes": [seen[1], node],
                                            "times": [round(seen[2], 3), round(start, 3)]})
            sentences.setdefault("two_leaders", (
                f"{seen[1]} named {seen[0]} leader of term {term} (t={seen[2]:.1f} s) but {node} named {leader} "
                f"leader of the same term (t={start:.1f} s): two leaders in one term"))

    # terms never go back at one node (real-time order of its answers)
    by_node: dict[str, list[tuple[float, float, Any]]] = {}
    for node, start, end, _leader, term, _ in answers:
        if term is not None:
            by_node.setdefault(node, []).append((start, end, term))
    for node, rows in sorted(by_node.items()):
        best: tuple[float, Any] | None = None  # the highest term among answers completed so far
        ends = sorted(rows, key=lambda r: r[1])
        i = 0
        for start, _end, term in sorted(rows):
            while i < len(ends) and ends[i][1] < start:
                if best is None or ends[i][2] > best[1]:
                    best = (ends[i][1], ends[i][2])
                i += 1
            if best is not None and term < best[1]:
                problems["term_went_back"].append({"node": node, "from": best[1], "to": term, "time": round(start, 3)})
                sentences.setdefault("term_went_back", (
                    f"{node}'s term went back from {best[1]} (answered by t={best[0]:.1f} s) to {term} "
                    f"(t={start:.1f} s): a node must never forget its term, even across a restart"))

    # no dead leader
    for node, start, end, leader, term, _ in answers:
        if leader is None or leader == node:
            continue
        down = tl.down_at(leader, start)
        # the answering node's own downtime does not count: it had no chance to notice
        if down is not None and start - max(down[0], tl.up_since(node, end)) >= detect_within and end <= down[1]:
            problems["dead_leader"].append({"node": node, "leader": leader, "time": round(start, 3),
                                            "down_since": round(down[0], 3)})
            sentences.setdefault("dead_leader", (
                f"{node} still named {leader} leader{_term_words(term)} at t={start:.1f} s, though {leader} had "
                f"been down since t={down[0]:.1f} s (a dead leader must be replaced within {detect_within:g} s): "
                f"stale leader"))

    # no flapping in a quiet stretch
    stretches: dict[float, list[tuple[float, str, Any]]] = {}
    for _node, start, end, leader, term, _ in answers:
        if leader is None:
            continue
        since = tl.quiet_since(start)
        if start - since >= settle and tl.quiet(start, end):
            stretches.setdefault(since, []).append((start, leader, term if terms else leader))
    for since, rows in sorted(stretches.items()):
        rows.sort(key=lambda r: r[0])
        first = rows[0]
        for start, leader, key in rows:
            if key != first[2] and (not terms or key > first[2]):
                problems["flapping"].append({"since": round(since, 3), "from": first[1], "to": leader,
                                             "time": round(start, 3)})
                change = (f"{leader} was elected again, term {first[2]} to {key}," if leader == first[1] else
                          f"the leader changed from {first[1]}{_term_words(first[2] if terms else None)} to "
                          f"{leader}{_term_words(key if terms else None)}")
                sentences.setdefault("flapping", (
                    f"{change} at t={start:.1f} s, with no fault since t={since:.1f} s: flapping (a healthy "
                    f"leader must be kept)"))
                break

    # no healthy leader deposed
    if no_disruption and terms:
        everyone_now = sorted({n for n, *_ in answers} | set(nodes) | set(tl.down), key=node_order)
        need = len(everyone_now) // 2 + 1
        current: tuple[int, str] | None = None  # the newest term named with a leader, and that leader
        naming = sorted((a for a in answers if a[3] is not None), key=lambda a: a[1])
        for node, start, _end, leader, term, _ in naming:
            if current is not None and term > current[0]:
                last = max((e for _n, _s, e, ld, t, _f in naming if (t, ld) == current and e <= start), default=None)
                if last is not None:
                    with_it = tl.connected(current[1], everyone_now, last - 1.0, start)
                    if len(with_it) >= need:
                        problems["disrupted"].append({"leader": current[1], "term": current[0], "by": leader,
                                                      "new_term": term, "time": round(start, 3)})
                        sentences.setdefault("disrupted", (
                            f"{current[1]} (term {current[0]}) was deposed: {node} named {leader} leader of term "
                            f"{term} at t={start:.1f} s, though {current[1]} was up and connected to a majority "
                            f"({', '.join(sorted(with_it, key=node_order))}) from t={last - 1.0:.1f} s on: a "
                            f"healthy leader was disrupted"))
            if current is None or term > current[0]:
                current = (term, leader)

    # the final answers agree
    finals = [(node, leader) for node, _s, _e, leader, _t, final in answers if final]
    named = sorted({leader for _, leader in finals if leader is not None}, key=node_order)
    everyone = sorted({n for n, *_ in answers} | set(nodes), key=node_order)
    if final_unanswered:
        sentences["final"] = (f"{final_unanswered[0]} did not answer its final leader request after the faults "
                              "healed (every node must answer once the cluster is whole)")
    elif finals and (len(named) != 1 or any(leader is None for _, leader in finals)):
        words = ", ".join(f"{n} named {leader or 'nobody'}" for n, leader in sorted(finals, key=lambda f: node_order(f[0])))
        sentences["final"] = (f"at the end, with every fault healed, the nodes did not agree on one leader ({words}): "
                              "no agreement")
    elif finals and highest_wins and everyone and named[0] != everyone[-1]:
        sentences["final"] = (f"at the end, with every fault healed, every node named {named[0]}, but {everyone[-1]} has the "
                              f"highest id and is up: it must lead (wrong leader)")
    if "final" in sentences:
        problems["final"].append({"finals": [[n, leader] for n, leader in finals], "unanswered": final_unanswered})

    order = ("two_leaders", "term_went_back", "dead_leader", "flapping", "disrupted", "final")
    explanation = next((sentences[k] for k in order if k in sentences), None)
    if explanation is None and malformed:
        explanation = f"a leader answer was malformed: {malformed[0]} (leader: a node id or null; term: an integer)"
    valid = explanation is None
    return {
        "valid": valid,
        "answered_count": len(answers),
        "terms_seen": len({t for *_, t, _f in answers if t is not None}),
        "final_leader": named[0] if len(named) == 1 else None,
        **{k: v[:MAX_CASES] for k, v in problems.items()},
        "malformed": malformed[:MAX_CASES],
        **({"explanation": explanation} if explanation else {}),
    }
