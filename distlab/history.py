"""Operation histories: Jepsen's record shape, kept as JSON Lines.

A record is `{"index", "time" (ns since start), "process", "type", "f", "value"}`
plus `"error"` when the operation failed or is indeterminate. Invocations and
completions are separate records, as in Jepsen, so histories convert both ways.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

INVOKE, OK, FAIL, INFO = "invoke", "ok", "fail", "info"
NEMESIS = "nemesis"


class HistoryError(ValueError):
    """A history file that cannot be read; the text names the file and line."""


class History:
    """An append-only list of records; `index` is the position."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.records)

    def add(self, time: float, process: int | str, type_: str, f: str, value: Any, error: Any = None) -> dict[str, Any]:
        rec: dict[str, Any] = {
            "index": len(self.records),
            "time": round(time * 1e9),
            "process": process,
            "type": type_,
            "f": f,
            "value": value,
        }
        if error is not None:
            rec["error"] = error
        self.records.append(rec)
        return rec

    def write(self, path: Path) -> None:
        with open(path, "wb") as out:
            for rec in self.records:
                out.write(orjson.dumps(rec, option=orjson.OPT_APPEND_NEWLINE))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    records = []
    with open(path, "rb") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise HistoryError(f"{path}:{lineno}: not JSON ({exc})") from None
            if not isinstance(rec, dict) or "type" not in rec or "process" not in rec:
                raise HistoryError(f"{path}:{lineno}: not a history record (needs type and process)")
            records.append(rec)
    return records


def pairs(records: Iterable[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Each client invocation with its completion (None if it never completed)."""
    open_ops: dict[Any, list[Any]] = {}
    result: list[list[Any]] = []
    for rec in records:
        if rec["process"] == NEMESIS:
            continue
        if rec["type"] == INVOKE:
            entry = [rec, None]
            open_ops[rec["process"]] = entry
            result.append(entry)
        else:
            entry = open_ops.pop(rec["process"], None)
            if entry is not None:
                entry[1] = rec
    return [(inv, done) for inv, done in result]
