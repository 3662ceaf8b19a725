"""One pair per file; the reduces of files named *sherlock* or *tom* sleep 3 s, so a
worker or coordinator that exits before every output is written gets caught."""

from __future__ import annotations

from distlab.systems.mapreduce.apps import sleep


def map_fn(filename: str, contents: str) -> list[tuple[str, str]]:
    return [(filename, "1")]


def reduce_fn(key: str, values: list[str]) -> str:
    if "sherlock" in key or "tom" in key:
        sleep(3.0)
    return str(len(values))
