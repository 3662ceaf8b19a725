"""Shared fixtures: paths of the test nodes and a runner of simulated tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from distlab.examples import example_path
from distlab.options import TestOptions
from distlab.runner import RunResult, run_test

NODES = Path(__file__).parent / "nodes"


def node_path(name: str) -> str:
    """A test node from tests/nodes, or a built-in example by name."""
    if "/" in name:
        return name
    local = NODES / f"{name}.py"
    return str(local if local.exists() else example_path(name))


@pytest.fixture
def simulate(tmp_path: Path):
    """Run a simulated test with sane small defaults; keyword arguments override them."""

    def run(node: str, **kw: Any) -> RunResult:
        opts: dict[str, Any] = {
            "workload": "echo",
            "bin": node_path(node),
            "node_count": 1,
            "time_limit": 5.0,
            "rate": 20.0,
            "seed": 1,
            "store": str(tmp_path / "store"),
        }
        opts.update(kw)
        return run_test(TestOptions(**opts))

    return run
