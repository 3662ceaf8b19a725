"""The elector track's checkers (failure detector, leader, lease) and the fault timeline they
read: each rule caught on a known-bad history next to a near-identical good one, the sweeps
cross-checked against brute force, and one seeded simulator run of each workload."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from distlab.checkers import failure_detector, leader, lease
from distlab.checkers.faults import Timeline
from distlab.history import NEMESIS

TRACK = Path(__file__).resolve().parent.parent / "distlab" / "tracks" / "elector"
S = 1_000_000_000  # ns per second


class H:
    """A history built call by call: nemesis events and client calls with their times (s)."""

    def __init__(self) -> None:
        self.events: list[tuple[float, int, dict[str, Any]]] = []
        self.proc = 0

    def nemesis(self, t: float, f: str, value: Any) -> H:
        for kind in ("invoke", "info"):
            self.events.append((t, len(self.events), {"process": NEMESIS, "type": kind, "f": f, "value": value}))
        return self

    def call(self, node: str, start: float, end: float | None, f: str, result: dict[str, Any] | None,
             final: bool = False, outcome: str = "ok") -> H:
        self.proc += 1
        inv: dict[str, Any] = {"process": self.proc, "type": "invoke", "f": f, "value": {"node": node}}
        if final:
            inv["final"] = True
            inv["node"] = node
        self.events.append((start, len(self.events), inv))
        if end is not None:
            value = {"node": node, **(result or {})} if outcome == "ok" else {"node": node}
            done: dict[str, Any] = {"process": self.proc, "type": outcome, "f": f, "value": value}
            if final and outcome == "ok":
                done["final"] = True
            self.events.append((end, len(self.events), done))
        return self

    def build(self) -> list[dict[str, Any]]:
        out = []
        for i, (t, _, rec) in enumerate(sorted(self.events, key=lambda e: (e[0], e[1]))):
            out.append({"index": i, "time": round(t * S), **rec})
        return out


# ----- the timeline -------------------------------------------------------------------------------

def test_timeline_kill_and_pause_as_the_runtime_does_them() -> None:
    # pausing a dead node does nothing; killing a paused one brings it back running
    hist = (H().nemesis(1, "start-pause", ["n1"]).nemesis(2, "start-kill", ["n1"]).nemesis(3, "stop-kill", ["n1"])
            .nemesis(4, "start-kill", ["n2"]).nemesis(5, "start-pause", ["n2"]).nemesis(6, "stop-kill", ["n2"])
            .nemesis(9, "stop-pause", ["n1", "n2"]).build())
    tl = Timeline.from_history(hist)
    assert tl.down["n1"] == [(1.0, 3.0)]
    assert tl.down["n2"] == [(4.0, 6.0)]
    assert tl.up_since("n1", 8.0) == 3.0 and tl.up_since("n1", 0.5) == 0.0
    assert tl.any_fault == [(1.0, 9.0)]
    assert tl.quiet_since(12.0) == 9.0 and tl.quiet_since(5.0) == 5.0


def test_timeline_brute_force_down_state() -> None:
    """Down intervals against a replay of the events up to each sampled moment."""
    rng = random.Random(7)
    for _ in range(200):
        h = H()
        events = []
        t = 0.0
        for _ in range(rng.randrange(1, 12)):
            t += rng.choice((0.5, 1.0))
            f = rng.choice(("start-kill", "stop-kill", "start-pause", "stop-pause"))
            nodes = sorted(rng.sample(["n0", "n1", "n2"], rng.randrange(1, 4)))
            h.nemesis(t, f, nodes)
            events.append((t, f, nodes))
        tl = Timeline.from_history(h.build())
        for sample in [x / 4 for x in range(0, int(t * 4) + 8)]:
            killed, paused = set(), set()
            for at, f, nodes in events:
                if at > sample or (at == sample):
                    break
                for n in nodes:
                    if f == "start-kill":
                        killed.add(n)
                        paused.discard(n)
                    elif f == "stop-kill":
                        killed.discard(n)
                    elif f == "start-pause" and n not in killed:
                        paused.add(n)
                    elif f == "stop-pause":
                        paused.discard(n)
            if any(at == sample for at, _, _ in events):
                continue  # the very moment of a change: either state is right
            for n in ("n0", "n1", "n2"):
                assert (tl.down_at(n, sample) is not None) == (n in killed or n in paused), (events, sample, n)


# ----- failure detector ---------------------------------------------------------------------------

def fd(h: H, **kw: Any) -> dict[str, Any]:
    return failure_detector.check(h.build(), **{"detect_within": 2.0, "settle": 2.0, **kw})


def sus(*nodes: str) -> dict[str, Any]:
    return {"suspects": list(nodes)}


def killed_n1() -> H:
    return H().nemesis(1, "start-kill", ["n1"]).nemesis(6, "stop-kill", ["n1"])


def test_fd_crash_suspected_in_time_is_valid() -> None:
    h = killed_n1().call("n0", 4.0, 4.01, "suspects", sus("n1")).call("n0", 9.0, 9.01, "suspects", sus())
    r = fd(h)
    assert r["valid"] is True and r["failures_checked"] == 1


def test_fd_missed_crash_is_caught() -> None:
    r = fd(killed_n1().call("n0", 4.0, 4.01, "suspects", sus()))
    assert r["valid"] is False
    assert r["explanation"].startswith("n0 did not suspect n1 at t=4.0 s, though n1 had been down since t=1.0 s")
    assert "missed failure" in r["explanation"]


def test_fd_not_yet_required_within_the_deadline() -> None:
    assert fd(killed_n1().call("n0", 2.5, 2.51, "suspects", sus()))["valid"] is True


def test_fd_a_crash_that_ended_before_the_answer_is_not_required() -> None:
    assert fd(killed_n1().call("n0", 5.5, 6.5, "suspects", sus()))["valid"] is True


def test_fd_false_suspicion_is_caught() -> None:
    r = fd(H().call("n0", 5.0, 5.01, "suspects", sus("n2")))
    assert r["valid"] is False and "n0 suspected n2 at t=5.0 s" in r["explanation"]
    assert "false suspicion" in r["explanation"]


def test_fd_suspicion_may_linger_just_after_a_heal_but_not_longer() -> None:
    assert fd(killed_n1().call("n0", 7.0, 7.01, "suspects", sus("n1")))["valid"] is True
    assert fd(killed_n1().call("n0", 8.5, 8.51, "suspects", sus("n1")))["valid"] is False


def test_fd_partition_counts_only_the_direction_that_is_cut() -> None:
    part = {"shape": "isolate-one", "grudge": {"n0": ["n1"]}}  # n0 drops what n1 sends
    base = H().nemesis(1, "start-partition", part).nemesis(6, "stop-partition", "network healed")
    missed = fd(H().nemesis(1, "start-partition", part).nemesis(6, "stop-partition", "network healed")
                .call("n0", 4.0, 4.01, "suspects", sus()))
    assert missed["valid"] is False and "cut off from n0 by a partition" in missed["explanation"]
    assert fd(base.call("n1", 4.0, 4.01, "suspects", sus()))["valid"] is True  # n1 still hears n0
    # ... but may suspect n0 (its pings would go unanswered): the link is faulted
    assert fd(H().nemesis(1, "start-partition", part).nemesis(6, "stop-partition", "network healed")
              .call("n1", 4.0, 4.01, "suspects", sus("n0")))["valid"] is True


def test_fd_loss_is_no_excuse_for_suspicion() -> None:
    h = H().nemesis(1, "start-loss", {"loss": 0.5, "duplication": 0}).call("n0", 4.0, 4.01, "suspects", sus("n1"))
    assert fd(h)["valid"] is False


def test_fd_a_node_that_was_down_itself_gets_time_to_notice() -> None:
    # n0 paused 0..8 answers a request parked during its pause: n1 (down since 3) need not be named
    h = (H().nemesis(0, "start-pause", ["n0"]).nemesis(3, "start-kill", ["n1"]).nemesis(8, "stop-pause", ["n0"])
         .nemesis(20, "stop-kill", ["n1"]).call("n0", 5.0, 8.0, "suspects", sus()))
    assert fd(h)["valid"] is True
    h.call("n0", 10.5, 10.51, "suspects", sus())
    assert fd(h)["valid"] is False


def test_fd_final_read_must_be_answered() -> None:
    h = H().call("n0", 30.0, 35.0, "suspects", None, final=True, outcome="fail")
    r = fd(h)
    assert r["valid"] is False and "n0 did not answer its final suspects request" in r["explanation"]


# ----- leader -------------------------------------------------------------------------------------

def ld(h: H, **kw: Any) -> dict[str, Any]:
    return leader.check(h.build(), **{"detect_within": 4.0, "settle": 4.0, **kw})


def lead(who: str | None, term: int | None = None) -> dict[str, Any]:
    return {"leader": who, "term": term}


def finals(h: H, t: float, answers: dict[str, Any]) -> H:
    for node, who in answers.items():
        h.call(node, t, t + 0.01, "leader", lead(*who) if isinstance(who, tuple) else lead(who), final=True)
    return h


def test_leader_bully_final_must_be_highest() -> None:
    nodes = ("n0", "n1", "n2")
    good = finals(H(), 30, {"n0": "n2", "n1": "n2", "n2": "n2"})
    assert ld(good, terms=False, highest_wins=True, nodes=nodes)["valid"] is True
    bad = ld(finals(H(), 30, {"n0": "n1", "n1": "n1", "n2": "n1"}), terms=False, highest_wins=True, nodes=nodes)
    assert bad["valid"] is False and "n2 has the highest id" in bad["explanation"] and "wrong leader" in bad["explanation"]
    # without highest_wins any agreed leader will do
    assert ld(finals(H(), 30, {"n0": "n1", "n1": "n1", "n2": "n1"}), terms=False, nodes=nodes)["valid"] is True


def test_leader_final_disagreement_and_silence() -> None:
    r = ld(finals(H(), 30, {"n0": ("n1", 3), "n1": ("n1", 3), "n2": (None, 3)}))
    assert r["valid"] is False and "did not agree on one leader" in r["explanation"]
    assert "n2 named nobody" in r["explanation"]
    r = ld(H().call("n1", 30, 35, "leader", None, final=True, outcome="fail"))
    assert r["valid"] is False and "n1 did not answer its final leader request" in r["explanation"]


def test_leader_two_leaders_in_one_term() -> None:
    good = H().call("n0", 1, 1.1, "leader", lead("n1", 2)).call("n2", 1.5, 1.6, "leader", lead("n1", 2))
    assert ld(good)["valid"] is True
    bad = H().call("n0", 1, 1.1, "leader", lead("n1", 2)).call("n2", 1.5, 1.6, "leader", lead("n2", 2))
    r = ld(bad)
    assert r["valid"] is False and "two leaders in one term" in r["explanation"]
    assert r["explanation"].startswith("n0 named n1 leader of term 2 (t=1.0 s) but n2 named n2")


def test_leader_term_must_not_go_back() -> None:
    ok = H().call("n0", 1, 1.1, "leader", lead("n1", 5)).call("n0", 1.05, 1.2, "leader", lead("n1", 4))
    assert ld(ok)["valid"] is True  # concurrent: either may have been read first
    bad = H().call("n0", 1, 1.1, "leader", lead("n1", 5)).call("n0", 2, 2.1, "leader", lead("n1", 4))
    r = ld(bad)
    assert r["valid"] is False and "n0's term went back from 5" in r["explanation"]


def test_leader_terms_required_unless_bully() -> None:
    h = H().call("n0", 1, 1.1, "leader", lead("n1"))
    assert ld(h)["valid"] is False
    assert ld(H().call("n0", 1, 1.1, "leader", lead("n1")), terms=False)["valid"] is True


def test_leader_dead_leader_must_be_replaced() -> None:
    def hist(t: float) -> H:
        return H().nemesis(1, "start-kill", ["n2"]).nemesis(10, "stop-kill", ["n2"]).call(
            "n0", t, t + 0.01, "leader", lead("n2", 1))
    assert ld(hist(3.0))["valid"] is True
    r = ld(hist(6.0))
    assert r["valid"] is False and "n0 still named n2 leader (term 1) at t=6.0 s" in r["explanation"]
    assert "stale leader" in r["explanation"]


def test_leader_a_node_that_was_down_itself_gets_time_to_notice() -> None:
    h = (H().nemesis(0, "start-pause", ["n0"]).nemesis(1, "start-kill", ["n2"]).nemesis(8, "stop-pause", ["n0"])
         .nemesis(20, "stop-kill", ["n2"]).call("n0", 7.5, 8.0, "leader", lead("n2", 1)))
    assert ld(h)["valid"] is True
    h.call("n0", 12.5, 12.51, "leader", lead("n2", 1))
    assert ld(h)["valid"] is False


def test_leader_flapping_in_a_quiet_stretch() -> None:
    flap = H().call("n0", 5, 5.01, "leader", lead("n1", 1)).call("n1", 7, 7.01, "leader", lead("n2", 2))
    r = ld(flap)
    assert r["valid"] is False and "flapping" in r["explanation"]
    assert "from n1 (term 1) to n2 (term 2) at t=7.0 s" in r["explanation"]
    again = ld(H().call("n0", 5, 5.01, "leader", lead("n1", 1)).call("n1", 7, 7.01, "leader", lead("n1", 3)))
    assert again["valid"] is False and "n1 was elected again, term 1 to 3, at t=7.0 s" in again["explanation"]
    # a fault between them explains the change
    explained = (H().call("n0", 5, 5.01, "leader", lead("n1", 1))
                 .nemesis(5.5, "start-pause", ["n1"]).nemesis(6, "stop-pause", ["n1"])
                 .call("n1", 11, 11.01, "leader", lead("n2", 2)))
    assert ld(explained)["valid"] is True
    # and early on (before the cluster settled) elections are expected
    early = H().call("n0", 1, 1.01, "leader", lead("n1", 1)).call("n1", 2, 2.01, "leader", lead("n2", 2))
    assert ld(early)["valid"] is True


def test_leader_no_disruption_of_a_healthy_leader() -> None:
    nodes = ("n0", "n1", "n2", "n3", "n4")

    def hist(*faults: tuple[float, str, Any]) -> H:
        h = H()
        for t, f, v in faults:
            h.nemesis(t, f, v)
        return h.call("n0", 5, 5.01, "leader", lead("n1", 1)).call("n2", 9, 9.01, "leader", lead("n3", 2))

    isolate_n4 = {"shape": "isolate-one", "grudge": {"n0": ["n4"], "n1": ["n4"], "n2": ["n4"], "n3": ["n4"],
                                                     "n4": ["n0", "n1", "n2", "n3"]}}
    # n4 was cut off and came back; n1 kept its majority throughout: deposing it was a disruption
    r = ld(hist((6, "start-partition", isolate_n4), (8, "stop-partition", "network healed")), nodes=nodes,
           no_disruption=True)
    assert r["valid"] is False and "healthy leader was disrupted" in r["explanation"]
    assert r["explanation"].startswith("n1 (term 1) was deposed: n2 named n3 leader of term 2 at t=9.0 s")
    # without the rule the same history is fine (the cluster had a fault: no flapping either)
    assert ld(hist((6, "start-partition", isolate_n4), (8, "stop-partition", "network healed")),
              nodes=nodes)["valid"] is True
    # n1 itself cut off into a minority: replacing it is right
    minority = {"shape": "halves", "grudge": {"n0": ["n2", "n3", "n4"], "n1": ["n2", "n3", "n4"],
                                              "n2": ["n0", "n1"], "n3": ["n0", "n1"], "n4": ["n0", "n1"]}}
    assert ld(hist((6, "start-partition", minority), (8.5, "stop-partition", "network healed")), nodes=nodes,
              no_disruption=True)["valid"] is True
    # n1 paused, or a loss burst on: not healthy either
    assert ld(hist((6, "start-pause", ["n1"]), (7, "stop-pause", ["n1"])), nodes=nodes,
              no_disruption=True)["valid"] is True
    assert ld(hist((6, "start-loss", {"loss": 0.4}), (7, "stop-loss", "loss restored")), nodes=nodes,
              no_disruption=True)["valid"] is True


def _went_back_brute(answers: list[tuple[str, float, float, int]]) -> bool:
    return any(a[0] == b[0] and a[2] < b[1] and b[3] < a[3] for a in answers for b in answers)


def test_leader_term_sweep_matches_brute_force() -> None:
    rng = random.Random(3)
    for _ in range(300):
        h = H()
        answers = []
        for _ in range(rng.randrange(1, 9)):
            node = rng.choice(("n0", "n1"))
            start = rng.randrange(0, 20) / 2
            end = start + rng.randrange(0, 6) / 2
            term = rng.randrange(1, 5)
            h.call(node, start, end, "leader", lead(None, term))
            answers.append((node, start, end, term))
        r = leader.check(h.build(), settle=1e9)
        assert bool(r["term_went_back"]) == _went_back_brute(answers), answers


# ----- lease --------------------------------------------------------------------------------------

def claim(epoch: int | None, holder: bool = True) -> dict[str, Any]:
    return {"holder": holder, "epoch": epoch}


def test_lease_handover_is_valid() -> None:
    h = (H().call("n0", 1, 1.1, "lease", claim(1)).call("n1", 2, 2.1, "lease", claim(1, holder=False))
         .call("n1", 5, 5.1, "lease", claim(2)).call("n0", 6, 6.1, "lease", claim(1, holder=False))
         .call("n1", 30, 30.1, "lease", claim(2), final=True).call("n0", 30, 30.1, "lease", claim(2, False), final=True))
    r = lease.check(h.build())
    assert r["valid"] is True and r["final_holders"] == ["n1"]


def test_lease_expired_claim_is_caught() -> None:
    h = H().call("n1", 5, 5.1, "lease", claim(2)).call("n0", 6, 6.1, "lease", claim(1))
    r = lease.check(h.build())
    assert r["valid"] is False
    assert r["explanation"].startswith("n0 claimed the lease for epoch 1 at t=6.0 s, after n1 had already claimed")
    assert "two holders at once" in r["explanation"]


def test_lease_overlapping_claims_are_not_proof() -> None:
    h = H().call("n0", 5, 7, "lease", claim(1)).call("n1", 6, 6.5, "lease", claim(2))
    assert lease.check(h.build())["valid"] is True


def test_lease_one_holder_per_epoch() -> None:
    h = H().call("n0", 5, 5.1, "lease", claim(3)).call("n1", 6, 6.1, "lease", claim(3))
    r = lease.check(h.build())
    assert r["valid"] is False and "n0 and n1 both claimed the lease for epoch 3" in r["explanation"]


def test_lease_final_reads_find_one_holder() -> None:
    h = (H().call("n0", 30, 30.1, "lease", claim(2), final=True).call("n1", 30, 30.1, "lease", claim(1), final=True)
         .call("n2", 30, 30.1, "lease", claim(2, holder=False), final=True))
    r = lease.check(h.build())
    assert r["valid"] is False
    assert r["explanation"].startswith("n0 and n1 both claimed the lease at the final reads")


def test_lease_needs_a_holder_at_the_end_and_an_integer_epoch() -> None:
    h = H().call("n0", 30, 30.1, "lease", claim(None, False), final=True)
    r = lease.check(h.build())
    assert r["valid"] is False and "no holder" in r["explanation"]
    r = lease.check(H().call("n0", 3, 3.1, "lease", claim(None)).build())
    assert r["valid"] is False and "an integer is needed" in r["explanation"]


def _stale_brute(claims: list[tuple[str, float, float, int]]) -> bool:
    return any(a[2] < b[1] and b[3] < a[3] for a in claims for b in claims)


def test_lease_sweep_matches_brute_force() -> None:
    rng = random.Random(5)
    for _ in range(300):
        h = H()
        claims = []
        for _ in range(rng.randrange(1, 9)):
            node = rng.choice(("n0", "n1", "n2"))
            start = rng.randrange(0, 20) / 2
            end = start + rng.randrange(0, 6) / 2
            epoch = rng.randrange(1, 5)
            h.call(node, start, end, "lease", claim(epoch))
            claims.append((node, start, end, epoch))
        r = lease.check(h.build())
        assert (r["stale_claims_count"] > 0) == _stale_brute(claims), claims


# ----- the workloads ------------------------------------------------------------------------------

def test_workloads_record_the_node_asked_and_reject_malformed_replies() -> None:
    from distlab.workloads.failure_detector import FailureDetector, FailureDetectorParams, deadline
    from distlab.workloads.leader import Bully, LeaderParams
    from distlab.workloads.lease import Lease, LeaseParams

    nodes = ("n0", "n1", "n2")
    wl = FailureDetector(FailureDetectorParams(nodes), random.Random(1))
    op = wl.next_op(4)  # client 4 is bound to node 4 % 3
    assert op.value == {"node": "n1"} and wl.request(op) == {"type": "suspects"}
    assert wl.ok_value(op, {"suspects": ["n2", "n0"]}) == {"node": "n1", "suspects": ["n0", "n2"]}
    with pytest.raises(ValueError):
        wl.ok_value(op, {"suspects": "n2"})
    assert deadline(None) == 2.0 and deadline(500) == 4.0
    bully = Bully(LeaderParams(nodes), random.Random(1))
    assert bully.checker().options["highest_wins"] is True and bully.checker().options["terms"] is False
    assert [n for n, _ in bully.final_ops(["n0", "n1", "n2", "n0"])] == ["n0", "n1", "n2"]
    lw = Lease(LeaseParams(nodes), random.Random(1))
    with pytest.raises(ValueError):
        lw.ok_value(lw.next_op(0), {"holder": "yes", "epoch": 1})


# ----- one seeded run of each workload with the track's reference ---------------------------------

@pytest.mark.parametrize(("workload", "task", "extra"), [
    ("failure-detector", "02-heartbeats", {"nemesis": ["kill"], "rate": 100}),
    ("bully", "06-bully", {"nemesis": ["kill"], "node_count": 3}),
    ("leader", "07-terms", {"nemesis": ["partition"]}),
    ("sticky-leader", "10-pre-vote", {"nemesis": ["partition"]}),
    ("lease", "11-lease", {"nemesis": ["kill"]}),
])
def test_reference_passes_a_seeded_run(simulate: Any, workload: str, task: str, extra: dict[str, Any]) -> None:
    opts = {"workload": workload, "node_count": 5, "time_limit": 15, "rate": 50, "nemesis_interval": 4,
            "nemesis_schedule": "stagger", "seed": 3, **extra}
    result = simulate(str(TRACK / task / "reference.py"), **opts)
    assert result.valid is True, result.results.get("workload")
