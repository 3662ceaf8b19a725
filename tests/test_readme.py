"""The README's complete node is real: extract it and run the command its comment gives."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_node_passes_its_own_command(tmp_path: Path, simulate: Any) -> None:
    text = README.read_text()
    block = re.search(r"## A complete node\n\n```python\n(.*?)```", text, re.S)
    assert block is not None
    node = tmp_path / "unique_ids.py"
    node.write_text(block.group(1))
    result = simulate(str(node), workload="unique-ids", node_count=3, time_limit=30, rate=1000,
                      nemesis=["partition", "kill"], nemesis_interval=5)
    assert result.valid is True, result.results["workload"]
    assert result.results["nemesis_ops"]["start-kill"] >= 1
    echo = simulate(str(node), workload="echo", node_count=2, time_limit=5, rate=20)
    assert echo.valid is True, echo.results["workload"]
