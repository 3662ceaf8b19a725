"""Leases: each "I hold the lease, epoch e" answer judged in real (harness) time.

A lease is a promise that, for a while, one node and no other acts as the owner.
Every grant of the lease has an epoch, a number that grows with each new holder. From
the client history alone two things prove that two nodes held it at once:

- one holder per epoch: two different nodes claimed the same epoch;
- epochs follow real time: a claim of epoch e that completed before another claim was
  even invoked must not be newer than it. If n1's "epoch 4" answer was back before n2
  was asked, and n2 then answered "epoch 3", n2 still believed in a lease that had been
  taken over (its lease ran out while it was paused, or by its skewed clock).

After the final heal (and time to settle) the final reads, all sent at once, must find
exactly one holder: none means the lease is lost, two mean two holders at once (nothing
is changing hands by then, so "it was just being handed over" does not explain it).
Values: an invocation's `{"node": n}`; an ok's adds `"holder"` (bool) and `"epoch"`.
"""

from __future__ import annotations

from typing import Any

from distlab.checkers.faults import seconds
from distlab.checkers.pairing import calls
from distlab.history import OK

MAX_CASES = 10


def check(history: list[dict[str, Any]]) -> dict[str, Any]:
    claims: list[tuple[str, float, float, int]] = []  # node, start, end, epoch
    malformed: list[str] = []
    final_holders: list[str] = []
    final_answers = 0
    final_unanswered: list[str] = []
    for _, inv, _, done in calls(history):
        if inv.get("f") != "lease":
            continue
        node = str((inv.get("value") or {}).get("node") or inv.get("node") or "")
        if done is None or done.get("type") != OK:
            if inv.get("final"):
                final_unanswered.append(node)
            continue
        value = done.get("value") or {}
        if inv.get("final"):
            final_answers += 1
        if value.get("holder") is not True:
            continue
        epoch = value.get("epoch")
        if not isinstance(epoch, int) or isinstance(epoch, bool):
            malformed.append(f"{node} claimed the lease with epoch {epoch!r} (an integer is needed)")
            continue
        claims.append((node, seconds(inv), seconds(done), epoch))
        if inv.get("final"):
            final_holders.append(node)

    # one holder per epoch
    two_holders: list[dict[str, Any]] = []
    first: dict[int, tuple[str, float]] = {}
    for node, start, _end, epoch in sorted(claims, key=lambda c: c[1]):
        seen = first.setdefault(epoch, (node, start))
        if seen[0] != node:
            two_holders.append({"epoch": epoch, "nodes": [seen[0], node], "times": [round(seen[1], 3), round(start, 3)]})

    # epochs follow real time: sweep claims by invocation, against the newest claim already completed
    stale: list[dict[str, Any]] = []
    by_end = sorted(claims, key=lambda c: c[2])
    newest: tuple[str, float, float, int] | None = None
    i = 0
    for claim in sorted(claims, key=lambda c: c[1]):
        node, start, _end, epoch = claim
        while i < len(by_end) and by_end[i][2] < start:
            if newest is None or by_end[i][3] > newest[3]:
                newest = by_end[i]
            i += 1
        if newest is not None and epoch < newest[3]:
            stale.append({"node": node, "epoch": epoch, "time": round(start, 3), "newer_node": newest[0],
                          "newer_epoch": newest[3], "newer_time": round(newest[2], 3)})

    explanation = None
    if stale:
        s = stale[0]
        who = "it had itself" if s["newer_node"] == s["node"] else f"{s['newer_node']} had"
        explanation = (f"{s['node']} claimed the lease for epoch {s['epoch']} at t={s['time']:.1f} s, after {who} "
                       f"already claimed the newer epoch {s['newer_epoch']} (answered by t={s['newer_time']:.1f} s): "
                       f"two holders at once ({s['node']}'s lease must end before the next one begins)")
    elif two_holders:
        h = two_holders[0]
        explanation = (f"{h['nodes'][0]} and {h['nodes'][1]} both claimed the lease for epoch {h['epoch']} "
                       f"(t={h['times'][0]:.1f} s and t={h['times'][1]:.1f} s): two holders at once")
    elif final_unanswered:
        explanation = (f"{final_unanswered[0]} did not answer its final lease request after the faults healed "
                       "(every node must answer once the cluster is whole)")
    elif len(set(final_holders)) > 1:
        who = sorted(set(final_holders))
        explanation = (f"{' and '.join(who)} all claimed the lease at the final reads, after the faults healed and "
                       f"10 s to settle: two holders at once" if len(who) > 2 else
                       f"{who[0]} and {who[1]} both claimed the lease at the final reads, after the faults healed "
                       f"and 10 s to settle: two holders at once")
    elif final_answers and not final_holders:
        explanation = ("after the faults healed (and 10 s to settle) no node held the lease: a lease nobody can "
                       "take over is lost (no holder)")
    elif malformed:
        explanation = malformed[0]
    return {
        "valid": explanation is None,
        "claim_count": len(claims),
        "epochs_seen": len({c[3] for c in claims}),
        "stale_claims_count": len(stale),
        "stale_claims": stale[:MAX_CASES],
        "two_holders": two_holders[:MAX_CASES],
        "final_holders": sorted(set(final_holders)),
        "malformed": malformed[:MAX_CASES],
        **({"explanation": explanation} if explanation else {}),
    }
