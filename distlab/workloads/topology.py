"""Broadcast topologies (Maelstrom's --topology): which neighbours each node is told about."""

from __future__ import annotations

import math
from typing import Any


def grid(nodes: list[str]) -> dict[str, list[str]]:
    """A roughly square grid, row by row: at most 4 neighbours each (below, above, right, left)."""
    n = len(nodes)
    side = math.ceil(math.sqrt(n))

    def at(i: int, j: int) -> str | None:
        idx = i * side + j
        return nodes[idx] if 0 <= i and 0 <= j < side and idx < n else None

    topo = {}
    for idx, node in enumerate(nodes):
        i, j = divmod(idx, side)
        topo[node] = [m for m in (at(i + 1, j), at(i - 1, j), at(i, j + 1), at(i, j - 1)) if m is not None]
    return topo


def line(nodes: list[str]) -> dict[str, list[str]]:
    if len(nodes) < 2:
        return {}
    return {
        node: [m for m in (nodes[i - 1] if i > 0 else None, nodes[i + 1] if i + 1 < len(nodes) else None) if m]
        for i, node in enumerate(nodes)
    }


def total(nodes: list[str]) -> dict[str, list[str]]:
    return {node: [m for m in nodes if m != node] for node in nodes}


def tree(nodes: list[str], branching: int) -> dict[str, list[str]]:
    """The first node is the root; the rest split into `branching` equal runs, each a subtree."""
    topo: dict[str, list[str]] = {}

    def build(run: list[str], parent: str | None) -> None:
        if not run:
            return
        root, rest = run[0], run[1:]
        chunk = math.ceil(len(rest) / branching) if rest else 1
        children = [rest[k : k + chunk] for k in range(0, len(rest), chunk)]
        topo[root] = ([parent] if parent else []) + [c[0] for c in children]
        for child in children:
            build(child, root)

    build(list(nodes), None)
    return topo


TOPOLOGIES: dict[str, Any] = {
    "grid": grid,
    "line": line,
    "total": total,
    "tree": lambda nodes: tree(nodes, 2),
    "tree2": lambda nodes: tree(nodes, 2),
    "tree3": lambda nodes: tree(nodes, 3),
    "tree4": lambda nodes: tree(nodes, 4),
}


def topology(name: str, nodes: list[str]) -> dict[str, list[str]]:
    if name not in TOPOLOGIES:
        raise ValueError(f"unknown topology {name!r}; choose from {', '.join(TOPOLOGIES)}")
    return TOPOLOGIES[name](nodes)
