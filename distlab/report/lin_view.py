"""The linearizability failure view of a run (linearizability.html), for report.html: the
same page `distlab analyze linearizable --html` writes, made as part of the run's report
so nobody has to run a second command to see which operation could not be linearized.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from distlab.analyze import find_target, own_lin_model

BUDGET_SECONDS = 30.0
"""A re-check that takes longer is given up (the run's own verdict stands either way)."""


def write_lin_view(run_dir: Path, history: list[dict[str, Any]], valid: Any) -> Path | None:
    """linearizability.html in `run_dir` when the run's checker is linearizability and it
    found the history not linearizable; None (and no file) otherwise."""
    if valid is not False:
        return None
    from distlab.analyze import AnalyzeError

    try:
        model = own_lin_model(find_target(str(run_dir)))
    except AnalyzeError:
        return None
    if model is None:
        return None
    from distlab.checkers.linearizable import check, write_html

    try:
        result = check(history, model, budget=BUDGET_SECONDS)
    except (KeyError, TypeError, ValueError):
        return None  # the workload checker said why; this view has nothing to add
    if result.valid is not False:
        return None
    return write_html(result, run_dir / "linearizability.html")
