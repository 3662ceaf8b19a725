"""Shared fixtures: paths of the test nodes, a runner of simulated tests, and the
reference histories of ../shared/data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from distlab.examples import example_path
from distlab.options import TestOptions
from distlab.runner import RunResult, run_test
from tests.browser import browser  # noqa: F401 (the real-browser fixture, for any test module)

NODES = Path(__file__).parent / "nodes"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_data(*parts: str, root: Path = SHARED_DATA) -> Path:
    """A path under ../shared/data that must exist.

    Tests parametrized over reference files would otherwise collect nothing,
    and pass, when the folder is missing; this fails them loudly instead.
    """
    path = root.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"reference data missing: {path} does not exist (the checker tests "
                    "read ../shared/data beside the project)", pytrace=False)
    return path


def shared_glob(pattern: str, root: Path = SHARED_DATA) -> list[Path]:
    """The files under ../shared/data matching `pattern`, sorted; at least one, or fail."""
    base = shared_data(root=root)
    files = sorted(p for p in base.glob(pattern) if p.is_file())
    if not files:
        pytest.fail(f"reference data missing: no file matches {base / pattern}", pytrace=False)
    return files


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
