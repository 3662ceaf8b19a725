"""A worker's files, named as 6.824 names them: map task X writes mr-X-Y for each reduce
task Y; reduce task Y reads mr-*-Y and writes mr-out-Y, one `key value` line per key.
Both work in the current folder."""

from __future__ import annotations

from collections.abc import Callable

MapFn = Callable[[str, str], list[tuple[str, str]]]
ReduceFn = Callable[[str, list[str]], str]


def run_map(map_fn: MapFn, map_task: int, filename: str, n_reduce: int) -> None:
    """TODO: read `filename`, call map_fn(filename, contents), and write each pair to
    mr-<map_task>-<partition(key)>, one file per reduce task (empty ones too)."""


def run_reduce(reduce_fn: ReduceFn, reduce_task: int, n_map: int) -> None:
    """TODO: read mr-0-<reduce_task> .. mr-<n_map-1>-<reduce_task>, group the pairs by
    key, and write mr-out-<reduce_task> with one `key reduce_fn(key, values)` line per key."""
