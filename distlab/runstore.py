"""The store of run directories: which directories are runs, newest first, and pruning.

A run directory is `<store>/<workload>/<stamp>` holding a config.json (the runner writes
it first). Anything else in a store (a learner's notes, `latest`, a half-made folder
without config.json) is never a run, so pruning never touches it: `--store-keep` can
only delete what distlab itself wrote.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def run_dirs(store: str | Path) -> list[Path]:
    """Every run directory in `store`, newest first (by stamp: the names sort by time)."""
    root = Path(store)
    if not root.is_dir():
        return []
    runs = [run for workload in root.iterdir() if workload.is_dir() and not workload.is_symlink()
            for run in workload.iterdir()
            if run.is_dir() and not run.is_symlink() and (run / "config.json").is_file()]
    return sorted(runs, key=lambda p: (p.name, p.parent.name), reverse=True)


def prune(store: str | Path, keep: int, protect: Path | None = None) -> list[Path]:
    """Delete all but the newest `keep` runs (never `protect`, never the run `latest`
    points to); returns the deleted directories, oldest last."""
    if keep < 1:
        raise ValueError(f"--store-keep {keep}: keep at least 1 run")
    root = Path(store)
    kept = {p.resolve() for p in (protect, root / "latest") if p is not None and p.exists()}
    doomed = [run for run in run_dirs(root)[keep:] if run.resolve() not in kept]
    for run in doomed:
        shutil.rmtree(run, ignore_errors=True)
        try:
            run.parent.rmdir()  # the workload's folder, once it holds no run
        except OSError:
            pass
    return doomed
