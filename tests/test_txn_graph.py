"""The pieces under the transactional checker: SCCs, cycle classes, models, budgets."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distlab.checkers.txn.anomalies import (
    classify,
    cycle_exists,
    not_sets,
    ruled_out,
    simple_cycles,
)
from distlab.checkers.txn.graph import (
    ITEM,
    PROCESS,
    REALTIME,
    RW,
    WR,
    WW,
    Budget,
    BudgetExceeded,
    Graph,
    bfs_path,
    components,
    tarjan,
)


def random_graph(seed: int, n: int, p: float) -> Graph:
    rng = random.Random(seed)
    g = Graph(n)
    for a in range(n):
        for b in range(n):
            if a != b and rng.random() < p:
                g.add(a, b, rng.choice([WW, WR, RW, WW | RW]))
    return g


def reach(g: Graph, mask: int) -> list[set[int]]:
    out = []
    for s in range(g.n):
        seen = {s}
        todo = [s]
        while todo:
            v = todo.pop()
            for w, m in g.out[v].items():
                if m & mask and w not in seen:
                    seen.add(w)
                    todo.append(w)
        out.append(seen)
    return out


@settings(deadline=None, derandomize=True, max_examples=60)
@given(st.integers(0, 10**6), st.integers(1, 30), st.sampled_from([0.03, 0.08, 0.2]))
def test_tarjan_agrees_with_mutual_reachability(seed: int, n: int, p: float) -> None:
    g = random_graph(seed, n, p)
    r = reach(g, ITEM)
    expected = {frozenset(v for v in range(n) if v in r[u] and u in r[v]) for u in range(n)}
    expected = {c for c in expected if len(c) > 1}
    assert {frozenset(c) for c in tarjan(range(n), g.succ(ITEM))} == expected
    comps = components(range(n), g.succ(ITEM))
    assert sorted(v for c in comps for v in c) == list(range(n))
    order = {v: i for i, c in enumerate(comps) for v in c}
    for a in range(n):  # sinks first: an edge never points to a later component
        for b in g.out[a]:
            assert order[b] <= order[a]


@settings(deadline=None, derandomize=True, max_examples=60)
@given(st.integers(0, 10**6), st.integers(2, 14))
def test_snapshot_isolation_cycle_test_matches_brute_force(seed: int, n: int) -> None:
    """An SCC of the doubled graph exists iff some simple cycle has no two rw in a row."""
    g = random_graph(seed, n, 0.2)
    kinds = {(a, b): m for a in range(n) for b, m in g.out[a].items()}

    def nonadjacent_cycle_exists() -> bool:
        # every simple cycle, each edge at its weakest usable kind for this question
        def dfs(start: int, v: int, path: list[int], seen: set[int]) -> bool:
            for w in g.out[v]:
                if w == start and len(path) >= 2:
                    cyc = [*path, start]
                    if ok([kinds[(cyc[i], cyc[i + 1])] for i in range(len(cyc) - 1)]):
                        return True
                elif w > start and w not in seen:
                    if dfs(start, w, [*path, w], seen | {w}):
                        return True
            return False

        return any(dfs(s, s, [s], {s}) for s in range(n))

    def ok(masks: list[int]) -> bool:
        # choose per edge: non-rw if it has ww/wr, else rw; rw never cyclically adjacent
        is_rw = [not m & (WW | WR) for m in masks]
        return not any(is_rw[i] and is_rw[i - 1] for i in range(len(is_rw)))

    got = bool(cycle_exists(g, list(range(n)), "snapshot-isolation"))
    assert got == nonadjacent_cycle_exists()


def test_classify_follows_adya() -> None:
    assert classify([WW, WW]) == "G0"
    assert classify([WW, WR]) == "G1c"
    assert classify([RW, WR]) == "G-single"
    assert classify([RW, WR, RW, WW]) == "G-nonadjacent"
    assert classify([RW, RW]) == "G2-item"
    assert classify([RW, WW, RW]) == "G2-item"  # the last and first rw touch
    assert classify([RW, REALTIME]) == "G-single-realtime"
    assert classify([WW, PROCESS]) == "G0-process"
    assert classify([RW, PROCESS, REALTIME]) == "G-single-realtime"


def test_simple_cycles_split_a_figure_eight() -> None:
    # 0 -> 1 -> 0 -> 2 -> 0
    got = simple_cycles([0, 1, 0, 2, 0], [RW, WW, WR, WW])
    assert got == [([0, 1, 0], [RW, WW]), ([0, 2, 0], [WR, WW])]


def test_models_ruled_out_and_the_weakest_of_them() -> None:
    assert ruled_out(["G0"]) >= {"read-uncommitted", "serializable", "strict-serializable"}
    assert not_sets(["G2-item"]) == (
        ["repeatable-read"], ["serializable", "strict-serializable", "strong-session-serializable"])
    assert not_sets(["G-single-realtime"]) == (
        ["strong-snapshot-isolation"], ["strict-serializable"])
    assert "snapshot-isolation" not in ruled_out(["G2-item", "G2-item-realtime"])
    assert not_sets(["G1a", "G0"])[0] == ["read-uncommitted"]


def test_bfs_path_with_a_required_kind_and_budget() -> None:
    g = Graph(4)
    g.add(0, 1, WW)
    g.add(1, 2, WW)
    g.add(2, 3, REALTIME)
    g.add(1, 3, WW)
    members = {0, 1, 2, 3}
    hit = bfs_path(g, 0, {3}, members, WW | REALTIME, 0, Budget())
    assert hit == (3, [(1, WW), (3, WW)])
    hit = bfs_path(g, 0, {3}, members, WW | REALTIME, REALTIME, Budget())
    assert hit == (3, [(1, WW), (2, WW), (3, REALTIME)])
    assert bfs_path(g, 0, {3}, members, WW, REALTIME, Budget()) is None
    with pytest.raises(BudgetExceeded):
        bfs_path(g, 0, {3}, members, WW | REALTIME, REALTIME, Budget(steps=1))


def test_cycle_exists_per_model_on_a_write_skew() -> None:
    g = Graph(2)
    g.add(0, 1, RW)
    g.add(1, 0, RW)
    assert cycle_exists(g, [0, 1], "repeatable-read")
    assert not cycle_exists(g, [0, 1], "snapshot-isolation")
    assert not cycle_exists(g, [0, 1], "read-committed")
