"""Reading a run directory for the report: config, results, history and message trace.

The report is drawn from files alone (never by re-running anything), so it works on old
runs and on directories copied from elsewhere. Whatever is missing or corrupt becomes
one `ReportError` naming the file and, for JSON Lines, the line: the CLI prints it as
its one error line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

REQUIRED = ("config.json", "results.json", "history.jsonl")
"""What a run directory must hold to be reported on (messages.jsonl may be absent:
a run that skipped its trace still gets plots and a report)."""


class ReportError(Exception):
    """The directory cannot be reported on: not a run directory, or a file is missing or corrupt."""


def read_jsonl(path: Path, what: str) -> list[dict[str, Any]]:
    """Every record of a JSON Lines file, each an object.

    The whole file is parsed as one JSON array first (several times faster than a
    parse per line on the 100,000-line traces the report must stay quick on); only
    if that fails is it read line by line, to name the first bad line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReportError(f"{path}: {exc.strerror or exc}") from exc
    body = data.strip()
    if not body:
        return []
    try:
        records = orjson.loads(b"[" + body.replace(b"\n", b",") + b"]")
    except orjson.JSONDecodeError:
        records = None
    lines = body.count(b"\n") + 1  # a torn line must not merge with the next into one record
    if records is not None and len(records) == lines and all(isinstance(r, dict) for r in records):
        return records
    for lineno, line in enumerate(data.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ReportError(f"{path}:{lineno}: not JSON ({exc})") from None
        if not isinstance(rec, dict):
            raise ReportError(f"{path}:{lineno}: not {what} (a JSON object per line)")
    # blank lines between records make the one-array parse fail: parse per line then
    return [orjson.loads(line) for line in data.split(b"\n") if line.strip()]


def _read_object(path: Path) -> dict[str, Any]:
    try:
        doc = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise ReportError(f"{path}: {exc.strerror or exc}") from exc
    except orjson.JSONDecodeError as exc:
        raise ReportError(f"{path}: not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ReportError(f"{path}: not a JSON object")
    return doc


@dataclass
class RunDir:
    """One run's files, read once and shared by the diagram, the plots and the page."""

    path: Path
    config: dict[str, Any]
    results: dict[str, Any]
    history: list[dict[str, Any]]
    messages: list[dict[str, Any]] | None
    """None when the run wrote no messages.jsonl."""
    node_logs: list[Path] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path | str, step: Callable[[str], None] | None = None, messages: bool = True) -> RunDir:
        """Read a run directory; `step` hears what is being read (for progress). With
        `messages=False` the trace is left for `load_messages` (the plots do not need it)."""
        root = Path(path)
        if not root.exists():
            raise ReportError(f"{root} does not exist")
        if not root.is_dir():
            raise ReportError(f"{root} is a file, not a run directory")
        missing = [name for name in REQUIRED if not (root / name).is_file()]
        if missing:
            raise ReportError(f"{root} is not a run directory: no {', '.join(missing)}")
        config = _read_object(root / "config.json")
        results = _read_object(root / "results.json")
        if step:
            step("reading history.jsonl")
        history = read_jsonl(root / "history.jsonl", "a history record")
        for i, rec in enumerate(history):
            if "type" not in rec or "process" not in rec:
                raise ReportError(f"{root / 'history.jsonl'}:{i + 1}: not a history record (needs type and process)")
        logs = sorted((root / "node-logs").glob("*.log")) if (root / "node-logs").is_dir() else []
        run = cls(root, config, results, history, None, logs)
        if messages:
            run.load_messages(step)
        return run

    @property
    def has_trace(self) -> bool:
        return (self.path / "messages.jsonl").is_file()

    def load_messages(self, step: Callable[[str], None] | None = None) -> None:
        """Read messages.jsonl, if the run wrote one."""
        if self.has_trace:
            if step:
                step("reading messages.jsonl")
            self.messages = read_jsonl(self.path / "messages.jsonl", "a message event")

    @property
    def nodes(self) -> list[str]:
        nodes = self.config.get("nodes")
        return [str(n) for n in nodes] if isinstance(nodes, list) else []


def nemesis_periods(history: list[dict[str, Any]], end: float) -> list[dict[str, Any]]:
    """Fault periods from the history's nemesis records (`start-X` ... `stop-X`), in
    seconds; a fault never stopped lasts to `end`. Each: kind, start, stop, label."""
    periods: list[dict[str, Any]] = []
    open_: dict[str, dict[str, Any]] = {}
    for rec in history:
        if rec.get("process") != "nemesis" or rec.get("type") != "info":
            continue
        f = str(rec.get("f", ""))
        t = _seconds(rec.get("time"))
        if t is None:
            continue
        if f.startswith("start-"):
            kind = f[len("start-"):]
            if kind in open_:  # started again without a stop: the first ends here
                open_.pop(kind)["stop"] = t
            period = {"kind": kind, "start": t, "stop": end, "label": f"{kind}: {_label(rec.get('value'))}"}
            periods.append(period)
            open_[kind] = period
        elif f.startswith("stop-"):
            period = open_.pop(f[len("stop-"):], None)
            if period is not None:
                period["stop"] = t
    return periods


def _seconds(ns: Any) -> float | None:
    if isinstance(ns, bool) or not isinstance(ns, int | float):
        return None
    return ns / 1e9


def _label(value: Any, limit: int = 80) -> str:
    """A fault's value in a few words: a partition's shape, the nodes killed."""
    if isinstance(value, dict) and "shape" in value:
        text = str(value["shape"])
        grudge = value.get("grudge")
        if isinstance(grudge, dict):
            cut = "; ".join(f"{k} x {','.join(map(str, v))}" for k, v in grudge.items() if v)
            text += f" ({cut})"
    elif isinstance(value, list | tuple):
        text = ", ".join(map(str, value))
    elif isinstance(value, dict):
        text = ", ".join(f"{k}={v}" for k, v in value.items())
    else:
        text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
