"""Tests for the network model: latency, loss, duplication, partitions and partition shapes."""

from __future__ import annotations

import math
import random
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distlab.runtime.network import (
    DISTRIBUTIONS,
    PARTITIONS,
    Latency,
    Network,
    bridge,
    complete_grudge,
    halves,
    isolate_one,
    majorities_ring,
)

SETTINGS = settings(deadline=None, max_examples=60, derandomize=True)

node_counts = st.integers(min_value=1, max_value=25)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


def names(n: int) -> list[str]:
    return [f"n{i}" for i in range(n)]


def drops(grudge: dict[str, frozenset[str]], receiver: str) -> frozenset[str]:
    return frozenset(grudge.get(receiver, frozenset()))


def sees(grudge: dict[str, frozenset[str]], receiver: str, sender: str) -> bool:
    return sender not in drops(grudge, receiver)


def check_well_formed(grudge: dict[str, frozenset[str]], nodes: list[str]) -> None:
    """Keys and values name only cluster nodes, every node has an entry, no self-drops."""
    everyone = set(nodes)
    assert set(grudge) == everyone
    for receiver, senders in grudge.items():
        assert isinstance(senders, frozenset)
        assert senders <= everyone, f"{receiver} drops unknown nodes {senders - everyone}"
        assert receiver not in senders, f"{receiver} drops itself"


def components(grudge: dict[str, frozenset[str]], nodes: list[str]) -> list[frozenset[str]]:
    """Components of a complete grudge: each node sees exactly its own component.

    Asserts the grudge really is of that shape (symmetric, transitive visibility).
    """
    comps: list[frozenset[str]] = []
    for node in nodes:
        visible = frozenset(m for m in nodes if sees(grudge, node, m))
        assert node in visible
        assert drops(grudge, node) == frozenset(nodes) - visible
        if visible not in comps:
            comps.append(visible)
    # the visible sets must partition the nodes
    assert sum(len(c) for c in comps) == len(nodes)
    assert frozenset().union(*comps) == frozenset(nodes)
    return comps


def is_symmetric(grudge: dict[str, frozenset[str]], nodes: list[str]) -> bool:
    return all(
        (b in drops(grudge, a)) == (a in drops(grudge, b)) for a in nodes for b in nodes
    )


# ----- Latency -----------------------------------------------------------------------


def test_default_latency_is_zero_constant():
    lat = Latency()
    assert lat.mean == 0.0
    assert lat.dist == "constant"
    assert lat.sample(random.Random(1)) == 0.0


def test_distributions_listed():
    assert DISTRIBUTIONS == ("constant", "uniform", "exponential")


@pytest.mark.parametrize("mean", [0.001, 0.25, 3.0])
def test_constant_returns_mean(mean):
    rng = random.Random(7)
    lat = Latency(mean, "constant")
    assert [lat.sample(rng) for _ in range(100)] == [mean] * 100


def test_constant_does_not_consume_randomness():
    rng = random.Random(3)
    before = rng.getstate()
    Latency(0.5, "constant").sample(rng)
    assert rng.getstate() == before


@pytest.mark.parametrize("dist", DISTRIBUTIONS)
def test_zero_latency_is_zero_for_every_distribution(dist):
    rng = random.Random(11)
    lat = Latency(0.0, dist)
    assert all(lat.sample(rng) == 0.0 for _ in range(200))


def test_uniform_within_bounds_and_mean():
    rng = random.Random(12345)
    mean = 0.5
    lat = Latency(mean, "uniform")
    xs = [lat.sample(rng) for _ in range(20_000)]
    assert all(0.0 <= x <= 2 * mean for x in xs)
    assert statistics.fmean(xs) == pytest.approx(mean, rel=0.03)
    # spread across the whole range [0, 2 * mean], not bunched around the mean
    assert min(xs) < 0.02 * mean
    assert max(xs) > 1.98 * mean
    # variance of U(0, 2m) is m^2 / 3
    assert statistics.pvariance(xs) == pytest.approx(mean**2 / 3, rel=0.06)
    assert len(set(xs)) > 19_000


def test_exponential_mean_and_shape():
    rng = random.Random(54321)
    mean = 0.2
    lat = Latency(mean, "exponential")
    xs = [lat.sample(rng) for _ in range(20_000)]
    assert all(x >= 0 for x in xs)
    assert statistics.fmean(xs) == pytest.approx(mean, rel=0.04)
    # exponential: std == mean, long tail beyond 2 * mean (unlike uniform)
    assert statistics.pstdev(xs) == pytest.approx(mean, rel=0.06)
    assert max(xs) > 5 * mean
    beyond = sum(x > 2 * mean for x in xs) / len(xs)
    assert beyond == pytest.approx(math.exp(-2), abs=0.015)


@pytest.mark.parametrize("dist", ["uniform", "exponential"])
def test_random_latency_deterministic_per_seed(dist):
    lat = Latency(0.3, dist)
    r1, r2, r3 = random.Random(99), random.Random(99), random.Random(100)
    xs = [lat.sample(r1) for _ in range(50)]
    assert xs == [lat.sample(r2) for _ in range(50)]
    assert xs != [lat.sample(r3) for _ in range(50)]


@pytest.mark.parametrize("dist", ["normal", "Constant", "", "exp"])
def test_unknown_distribution_rejected(dist):
    with pytest.raises(ValueError) as err:
        Latency(0.1, dist)
    msg = str(err.value)
    assert repr(dist) in msg
    for known in DISTRIBUTIONS:
        assert known in msg


@pytest.mark.parametrize("mean", [-0.001, -1.0, math.inf, -math.inf, math.nan])
@pytest.mark.parametrize("dist", DISTRIBUTIONS)
def test_bad_mean_rejected(mean, dist):
    with pytest.raises(ValueError, match="finite number >= 0"):
        Latency(mean, dist)


# ----- Network.delays ------------------------------------------------------------------


def test_no_faults_one_copy_with_link_latency():
    net = Network(random.Random(1), latency=Latency(0.2))
    for _ in range(100):
        assert net.delays("n0", "n1") == (0.2,)


def test_loss_one_always_drops():
    net = Network(random.Random(2), latency=Latency(0.1, "exponential"), loss=1.0, duplication=1.0)
    assert all(net.delays("n0", "n1") == () for _ in range(500))


def test_duplication_one_always_two_copies():
    net = Network(random.Random(3), latency=Latency(0.1, "uniform"), duplication=1.0)
    for _ in range(500):
        copies = net.delays("n0", "n1")
        assert len(copies) == 2
        assert all(0.0 <= d <= 0.2 for d in copies)


def test_duplicate_copies_have_independent_delays():
    net = Network(random.Random(4), latency=Latency(0.1, "exponential"), duplication=1.0)
    pairs = [net.delays("a", "b") for _ in range(200)]
    assert sum(d1 != d2 for d1, d2 in pairs) > 190


def test_duplicates_with_constant_latency_arrive_together():
    net = Network(random.Random(4), latency=Latency(0.1), duplication=1.0)
    assert net.delays("a", "b") == (0.1, 0.1)


def test_partial_loss_and_duplication_rates():
    net = Network(random.Random(2024), latency=Latency(0.01), loss=0.3, duplication=0.2)
    counts = {0: 0, 1: 0, 2: 0}
    trials = 20_000
    for _ in range(trials):
        counts[len(net.delays("n0", "n1"))] += 1
    assert counts[0] / trials == pytest.approx(0.3, abs=0.015)
    delivered = counts[1] + counts[2]
    assert counts[2] / delivered == pytest.approx(0.2, abs=0.015)


def test_per_link_override_is_directed():
    net = Network(random.Random(5), latency=Latency(0.2))
    net.set_link("n0", "n1", Latency(1.5))
    assert net.links[("n0", "n1")] == Latency(1.5)
    assert net.delays("n0", "n1") == (1.5,)
    assert net.delays("n1", "n0") == (0.2,)
    assert net.delays("n0", "n2") == (0.2,)
    # a later override replaces the earlier one
    net.set_link("n0", "n1", Latency(0.0))
    assert net.delays("n0", "n1") == (0.0,)


def test_per_link_override_distribution():
    net = Network(random.Random(6), latency=Latency(0.0))
    net.set_link("a", "b", Latency(1.0, "uniform"))
    xs = [net.delays("a", "b")[0] for _ in range(2000)]
    assert all(0.0 <= x <= 2.0 for x in xs)
    assert len(set(xs)) > 1900
    assert all(net.delays("b", "a") == (0.0,) for _ in range(50))


def test_per_link_override_keeps_loss():
    net = Network(random.Random(6), latency=Latency(0.1), loss=1.0)
    net.set_link("a", "b", Latency(2.0))
    assert net.delays("a", "b") == ()


def _trace(seed: int, n: int = 300) -> list[tuple[float, ...]]:
    net = Network(
        random.Random(seed), latency=Latency(0.05, "exponential"), loss=0.2, duplication=0.3
    )
    net.set_link("n1", "n0", Latency(0.4, "uniform"))
    pairs = [("n0", "n1"), ("n1", "n0"), ("n2", "n1")]
    return [net.delays(*pairs[i % 3]) for i in range(n)]


def test_delays_deterministic_given_seed():
    assert _trace(42) == _trace(42)
    assert _trace(42) != _trace(43)
    lens = {len(d) for d in _trace(42)}
    assert lens == {0, 1, 2}


def test_bad_probabilities_rejected():
    for kwargs in (
        {"loss": -0.01},
        {"loss": 1.01},
        {"loss": math.nan},
        {"duplication": -0.5},
        {"duplication": 2.0},
        {"duplication": math.nan},
    ):
        (name,) = kwargs
        with pytest.raises(ValueError, match=rf"{name} probability must be in \[0, 1\]"):
            Network(random.Random(0), **kwargs)


def test_boundary_probabilities_accepted():
    for loss in (0.0, 1.0):
        for dup in (0.0, 1.0):
            net = Network(random.Random(0), loss=loss, duplication=dup)
            assert (net.loss, net.duplication) == (loss, dup)


# ----- loss bursts ------------------------------------------------------------------


def test_set_loss_and_restore_baseline():
    net = Network(random.Random(8), latency=Latency(0.1), loss=0.1, duplication=0.05)
    net.set_loss(1.0, 0.0)
    assert (net.loss, net.duplication) == (1.0, 0.0)
    assert all(net.delays("a", "b") == () for _ in range(100))
    net.set_loss(0.0, 1.0)
    assert all(len(net.delays("a", "b")) == 2 for _ in range(100))
    net.restore_loss()
    assert (net.loss, net.duplication) == (0.1, 0.05)
    net.restore_loss()
    assert (net.loss, net.duplication) == (0.1, 0.05)


def test_restore_loss_default_baseline_is_perfect_network():
    net = Network(random.Random(8), latency=Latency(0.1))
    net.set_loss(0.5, 0.5)
    net.restore_loss()
    assert (net.loss, net.duplication) == (0.0, 0.0)
    assert all(net.delays("a", "b") == (0.1,) for _ in range(100))


@pytest.mark.parametrize("loss,dup", [(-0.1, 0.0), (1.5, 0.0), (0.0, -1.0), (0.0, 1.1)])
def test_set_loss_rejects_bad_probability(loss, dup):
    net = Network(random.Random(0), loss=0.2, duplication=0.1)
    with pytest.raises(ValueError, match="probability must be in"):
        net.set_loss(loss, dup)
    assert (net.loss, net.duplication) == (0.2, 0.1)


# ----- partitions (grudge) --------------------------------------------------------------


def test_no_partition_blocks_nothing():
    net = Network(random.Random(0))
    assert net.grudge == {}
    assert not any(net.blocked(a, b) for a in names(4) for b in names(4))


def test_partition_receiver_drops_listed_senders():
    net = Network(random.Random(0))
    net.partition({"n1": frozenset({"n0", "n2"})})
    assert net.blocked("n0", "n1")
    assert net.blocked("n2", "n1")
    # directed: n1 still reaches n0 and n2; others unaffected
    assert not net.blocked("n1", "n0")
    assert not net.blocked("n1", "n2")
    assert not net.blocked("n3", "n1")
    assert not net.blocked("n0", "n2")
    assert not net.blocked("n1", "n1")


def test_partition_normalises_and_drops_empty_entries():
    net = Network(random.Random(0))
    net.partition({"a": {"b"}, "b": set(), "c": frozenset()})  # type: ignore[dict-item]
    assert net.grudge == {"a": frozenset({"b"})}
    assert isinstance(net.grudge["a"], frozenset)


def test_partition_copies_input():
    net = Network(random.Random(0))
    senders = {"b"}
    net.partition({"a": senders})  # type: ignore[dict-item]
    senders.add("c")
    assert not net.blocked("c", "a")


def test_partition_replaces_previous_and_heal_clears():
    net = Network(random.Random(0))
    net.partition({"a": frozenset({"b"})})
    net.partition({"c": frozenset({"d"})})
    assert not net.blocked("b", "a")
    assert net.blocked("d", "c")
    net.heal()
    assert net.grudge == {}
    assert not net.blocked("d", "c")


def test_partition_independent_of_loss():
    net = Network(random.Random(0), latency=Latency(0.1))
    net.partition({"b": frozenset({"a"})})
    assert net.delays("a", "b") == (0.1,)  # decided at receive time
    assert net.blocked("a", "b")


def test_network_partition_from_shape():
    nodes = names(5)
    net = Network(random.Random(0))
    net.partition(complete_grudge([["n0", "n1"], ["n2", "n3", "n4"]]))
    for a in nodes:
        for b in nodes:
            same = (a in ("n0", "n1")) == (b in ("n0", "n1"))
            assert net.blocked(a, b) == (not same)


# ----- partition shapes ---------------------------------------------------------------


def test_partitions_registry():
    assert PARTITIONS == {
        "halves": halves,
        "isolate-one": isolate_one,
        "majorities-ring": majorities_ring,
        "bridge": bridge,
    }


def test_complete_grudge_example():
    g = complete_grudge([["a"], ["b", "c"], ["d"]])
    assert g == {
        "a": frozenset({"b", "c", "d"}),
        "b": frozenset({"a", "d"}),
        "c": frozenset({"a", "d"}),
        "d": frozenset({"a", "b", "c"}),
    }


@SETTINGS
@given(st.lists(st.integers(0, 4), min_size=1, max_size=25))
def test_complete_grudge_property(assignment):
    nodes = names(len(assignment))
    comps = [[n for n, c in zip(nodes, assignment, strict=True) if c == k] for k in range(5)]
    g = complete_grudge(comps)
    check_well_formed(g, nodes)
    assert is_symmetric(g, nodes)
    for a, ca in zip(nodes, assignment, strict=True):
        for b, cb in zip(nodes, assignment, strict=True):
            assert sees(g, a, b) == (ca == cb)


@SETTINGS
@given(node_counts, seeds)
def test_halves(n, seed):
    nodes = names(n)
    g = halves(nodes, random.Random(seed))
    assert nodes == names(n)  # input not mutated
    check_well_formed(g, nodes)
    assert is_symmetric(g, nodes)
    comps = components(g, nodes)
    if n == 1:
        assert comps == [frozenset(nodes)]
        return
    assert len(comps) == 2
    assert sorted(len(c) for c in comps) == [n // 2, (n + 1) // 2]
    for a in nodes:
        for b in nodes:
            same = any(a in c and b in c for c in comps)
            assert sees(g, a, b) == same


@SETTINGS
@given(node_counts, seeds)
def test_isolate_one(n, seed):
    nodes = names(n)
    g = isolate_one(nodes, random.Random(seed))
    assert nodes == names(n)
    check_well_formed(g, nodes)
    assert is_symmetric(g, nodes)
    if n == 1:
        assert g == {"n0": frozenset()}
        return
    if n == 2:
        assert g == {"n0": frozenset({"n1"}), "n1": frozenset({"n0"})}
        return
    lone = [node for node in nodes if drops(g, node) == frozenset(nodes) - {node}]
    assert len(lone) == 1
    (lone,) = lone
    for node in nodes:
        if node != lone:
            assert drops(g, node) == {lone}
    comps = components(g, nodes)
    assert sorted(len(c) for c in comps) == [1, n - 1]


@SETTINGS
@given(node_counts, seeds)
def test_majorities_ring(n, seed):
    nodes = names(n)
    g = majorities_ring(nodes, random.Random(seed))
    assert nodes == names(n)
    check_well_formed(g, nodes)
    views = {}
    for node in nodes:
        visible = frozenset(m for m in nodes if sees(g, node, m))
        assert node in visible
        assert 2 * len(visible) > n, f"{node} sees only {sorted(visible)} of {n}"
        assert drops(g, node) == frozenset(nodes) - visible
        views[node] = visible
    if n >= 3:
        # a real partition: no node sees everyone
        assert all(len(v) < n for v in views.values())
    if n >= 5:
        assert len(set(views.values())) == n, "two nodes see the same majority"
    if n <= 2:
        assert all(not s for s in g.values())


def test_majorities_ring_five_is_ring():
    # n=5: every node sees itself and its two ring neighbours, forming one 5-cycle
    nodes = names(5)
    g = majorities_ring(nodes, random.Random(1))
    neighbours = {node: frozenset(m for m in nodes if m != node and sees(g, node, m)) for node in nodes}
    assert all(len(v) == 2 for v in neighbours.values())
    assert is_symmetric(g, nodes)
    # walk the cycle
    start = nodes[0]
    prev, cur, seen = None, start, [start]
    for _ in range(4):
        nxt = sorted(neighbours[cur] - {prev})[0]
        prev, cur = cur, nxt
        seen.append(cur)
    assert sorted(seen) == nodes
    assert start in neighbours[cur]


@SETTINGS
@given(st.integers(min_value=3, max_value=25), seeds)
def test_bridge(n, seed):
    nodes = names(n)
    g = bridge(nodes, random.Random(seed))
    assert nodes == names(n)
    check_well_formed(g, nodes)
    assert is_symmetric(g, nodes)
    middles = [
        node
        for node in nodes
        if not drops(g, node) and not any(node in drops(g, other) for other in nodes)
    ]
    assert len(middles) == 1
    (middle,) = middles
    rest = [node for node in nodes if node != middle]
    # each side node drops exactly the other side
    left_drops = drops(g, rest[0])
    right = left_drops
    left = frozenset(rest) - right
    assert left and right
    assert sorted([len(left), len(right)]) == [(n - 1) // 2, n // 2]
    for node in left:
        assert drops(g, node) == right
    for node in right:
        assert drops(g, node) == left
    # the middle sees (and is seen by) both sides
    for node in rest:
        assert sees(g, middle, node)
        assert sees(g, node, middle)


@pytest.mark.parametrize("n", [1, 2])
def test_bridge_tiny_clusters_cut_nothing(n):
    nodes = names(n)
    g = bridge(nodes, random.Random(0))
    check_well_formed(g, nodes)
    assert all(not s for s in g.values())


@SETTINGS
@given(st.sampled_from(sorted(PARTITIONS)), node_counts, seeds)
def test_shapes_deterministic(shape, n, seed):
    nodes = names(n)
    fn = PARTITIONS[shape]
    assert fn(nodes, random.Random(seed)) == fn(nodes, random.Random(seed))


@pytest.mark.parametrize("shape", sorted(PARTITIONS))
def test_shapes_depend_on_seed(shape):
    nodes = names(7)
    fn = PARTITIONS[shape]
    results = {tuple(sorted(fn(nodes, random.Random(seed)).items())) for seed in range(30)}
    assert len(results) > 3
