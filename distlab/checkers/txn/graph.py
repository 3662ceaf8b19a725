"""The dependency graph: integer nodes, adjacency dicts of edge-kind bitmasks.

Edges carry a bitmask, not objects, so building a graph of 100k transactions
stays cheap; why an edge exists is worked out again only for the few edges on a
reported cycle (see `versions.Inference.explain`). Strongly connected components
are found with an iterative Tarjan (no recursion limit), cycles with BFS.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable

WW, WR, RW, PROCESS, REALTIME = 1, 2, 4, 8, 16
# an rw edge that snapshot isolation (and anything stronger) also makes a ww edge: its
# ends both wrote a key whose order nobody observed, and first-committer-wins orders them
SIWW = 32
NAMES = {WW: "ww", WR: "wr", RW: "rw", PROCESS: "process", REALTIME: "realtime", SIWW: "rw+ww"}
ITEM = WW | WR | RW


class BudgetExceeded(Exception):
    """The cycle search ran out of time or steps."""


class Budget:
    """A wall-clock and/or step allowance shared by every search of one check."""

    def __init__(self, seconds: float | None = None, steps: int | None = None) -> None:
        self.deadline = None if seconds is None else time.monotonic() + seconds
        self.steps_left = steps
        self.exceeded = False
        self._countdown = 1024

    def tick(self, n: int = 1) -> None:
        """Charge n steps; raise BudgetExceeded once the allowance is gone."""
        if self.steps_left is not None:
            self.steps_left -= n
            if self.steps_left < 0:
                self.exceeded = True
                raise BudgetExceeded
        if self.deadline is not None:
            self._countdown -= n
            if self._countdown <= 0:
                self._countdown = 1024
                if time.monotonic() > self.deadline:
                    self.exceeded = True
                    raise BudgetExceeded


class Graph:
    """Directed graph over transaction ids 0..n-1; `out[a][b]` is a bitmask of kinds."""

    __slots__ = ("n", "out")

    def __init__(self, n: int) -> None:
        self.n = n
        self.out: list[dict[int, int]] = [{} for _ in range(n)]

    def add(self, a: int, b: int, kind: int) -> None:
        if a != b:
            d = self.out[a]
            d[b] = d.get(b, 0) | kind

    def edge_count(self) -> int:
        return sum(len(d) for d in self.out)

    def succ(self, mask: int, member: set[int] | None = None) -> Callable[[int], list[int]]:
        """A successor function over edges of the given kinds, inside `member` if given."""
        out = self.out
        if member is None:
            return lambda v: [w for w, m in out[v].items() if m & mask]
        return lambda v: [w for w, m in out[v].items() if m & mask and w in member]

    def doubled_succ(
        self, plain: int, member: set[int] | None = None
    ) -> Callable[[int], list[int]]:
        """Successors in the graph that forbids two rw edges in a row.

        Node 2v means "at v, may take an rw edge next", 2v+1 "at v, just took one".
        A cycle here is a cycle of the dependency graph whose rw edges are never
        adjacent: G0, G1c, G-single or G-nonadjacent, which snapshot isolation forbids.
        """
        out = self.out

        def succ(x: int) -> list[int]:
            v, after_rw = divmod(x, 2)
            res = []
            for w, m in out[v].items():
                if member is not None and w not in member:
                    continue
                if m & plain:
                    res.append(2 * w)
                if m & RW and not after_rw:
                    res.append(2 * w + 1)
            return res

        return succ


def tarjan(
    roots: Iterable[int], succ: Callable[[int], list[int]], singletons: bool = False
) -> list[list[int]]:
    """Strongly connected components (of 2+ nodes unless `singletons`), sinks first."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    found: list[list[int]] = []
    counter = 0
    for root in roots:
        if root in index:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(succ(root)))]
        while work:
            v, it = work[-1]
            pushed = False
            for w in it:
                if w in index:
                    if w in on_stack and index[w] < low[v]:
                        low[v] = index[w]
                    continue
                index[w] = low[w] = counter
                counter += 1
                stack.append(w)
                on_stack.add(w)
                work.append((w, iter(succ(w))))
                pushed = True
                break
            if pushed:
                continue
            work.pop()
            if work:
                u = work[-1][0]
                if low[v] < low[u]:
                    low[u] = low[v]
            if low[v] == index[v]:
                if stack[-1] == v:
                    stack.pop()
                    on_stack.discard(v)
                    if singletons:
                        found.append([v])
                    continue
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                found.append(comp)
    return found


def components(roots: Iterable[int], succ: Callable[[int], list[int]]) -> list[list[int]]:
    """All components, singletons included, in reverse topological order (sinks first)."""
    return tarjan(roots, succ, singletons=True)


def bfs_path(
    graph: Graph,
    start: int,
    goals: set[int],
    member: set[int],
    allowed: int,
    required: int,
    budget: Budget,
    nonadjacent: bool = False,
) -> tuple[int, list[tuple[int, int]]] | None:
    """Shortest path from start to a goal inside `member` over `allowed` kinds.

    When `required` is non-zero the path must use at least one edge of those kinds
    (the -process and -realtime cycles). With `nonadjacent`, the path (entered by an
    rw edge, and closing a cycle back into one) never takes two rw edges in a row.
    Returns (goal, [(node, kind into node), ...]).
    """
    out = graph.out
    need = 1 if required else 0
    # state: (node, required kind seen, arrived by rw)
    first = (start, 0, 1 if nonadjacent else 0)
    parent: dict[tuple[int, int, int], tuple[tuple[int, int, int], int] | None] = {first: None}
    queue = deque([first])
    while queue:
        state = queue.popleft()
        budget.tick()
        v, flag, after_rw = state
        for w, m in out[v].items():
            m &= allowed
            if not m or w not in member:
                continue
            kind = m & -m  # an edge counts as its weakest kind: ww, wr, rw, process, realtime
            is_rw = 1 if kind == RW else 0
            if nonadjacent and is_rw and after_rw:
                continue
            nxt = (w, 1 if kind & required else flag, is_rw if nonadjacent else 0)
            if nxt not in parent:
                parent[nxt] = (state, kind)
                if nxt[1] >= need and w in goals and not nxt[2]:
                    return w, _unwind(parent, nxt)
                queue.append(nxt)
    return None


def _unwind(
    parent: dict[tuple[int, int, int], tuple[tuple[int, int, int], int] | None],
    state: tuple[int, int, int],
) -> list[tuple[int, int]]:
    path = []
    link = parent[state]
    while link is not None:
        path.append((state[0], link[1]))
        state = link[0]
        link = parent[state]
    path.reverse()
    return path
