"""Reading a run directory for the report: config, results, history and message trace.

The report is drawn from files alone (never by re-running anything), so it works on old
runs and on directories copied from elsewhere. Whatever is missing or corrupt becomes
one `ReportError` naming the file and, for JSON Lines, the line: the CLI prints it as
its one error line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

REQUIRED = ("config.json", "results.json", "history.jsonl")
"""What a run directory must hold to be reported on (messages.jsonl may be absent:
a run that skipped its trace still gets plots and a report)."""


BODY_LIMIT = 2048
"""Bytes of a message body read and embedded whole; a longer one (a broadcast read of
thousands of values) is kept as its first BODY_LIMIT characters, unparsed."""
TRUNCATED = "(truncated)"
"""The key that marks a body kept as text only."""


class ReportError(Exception):
    """The directory cannot be reported on: not a run directory, or a file is missing or corrupt."""


# Short lines are parsed in runs, each run as one JSON array (several times faster than
# a parse per line). A long line is read off its prefix when it has distlab's own layout
# (orjson, keys in a fixed order: History.add, the wire's trace lines): a history value's
# or a long body's thousands of numbers are never turned into Python objects, which on a
# big broadcast run is most of the reading time and memory. Any other line is parsed whole.
LONG_LINE = 1024
_HISTORY_LINE = re.compile(
    rb'\{"index":(-?\d+),"time":(-?\d+),"process":(-?\d+),"type":"(invoke|ok|fail|info)","f":"([^"\\]*)",')
_SEND_LINE = re.compile(rb'\{"t":(\d+),"ev":"send","id":(\d+),"src":"([^"\\]*)","dest":"([^"\\]*)","body":')
_TYPE = re.compile(rb'"type":"((?:[^"\\]|\\.)*)"')
_INT_AFTER = re.compile(rb"-?\d+")


def read_history(path: Path) -> list[dict[str, Any]]:
    """A history's records; a long line in distlab's layout (a read of thousands of
    values) keeps only index, time, process, type and f, all the report uses of it."""

    def long_line(lineno: int, line: bytes) -> dict[str, Any]:
        m = _HISTORY_LINE.match(line)
        if m is not None and line.rstrip().endswith(b"}"):
            return {"index": int(m[1]), "time": int(m[2]), "process": int(m[3]), "type": m[4].decode(), "f": m[5].decode()}
        return _parse_line(path, lineno, line, "a history record")

    records = _read(path, "a history record", long_line)
    for rec in records:
        if "type" not in rec or "process" not in rec:
            lineno = next(i for i, line in enumerate(_lines(path), 1)
                          if line.strip() and _parse_line(path, i, line, "a history record") == rec)
            raise ReportError(f"{path}:{lineno}: not a history record (needs type and process)")
    return records


def read_messages(path: Path) -> list[dict[str, Any]]:
    """A message trace's events (t, ev, id; src, dest and body for a send; why for a
    drop). A body longer than BODY_LIMIT bytes is kept unparsed: it becomes
    {"type", "msg_id", "in_reply_to", TRUNCATED, "text"}, its type and ids read off its text."""

    def long_line(lineno: int, line: bytes) -> dict[str, Any]:
        m = _SEND_LINE.match(line)
        raw = line[m.end():].rstrip() if m is not None else b""
        if m is None or not raw.endswith(b"}}") or len(raw) <= BODY_LIMIT + 1:
            return _parse_line(path, lineno, line, "a message event")
        body = _long_body(raw[:-1])
        return {"t": int(m[1]), "ev": "send", "id": int(m[2]), "src": m[3].decode(), "dest": m[4].decode(), "body": body}

    return _read(path, "a message event", long_line)


def _read(path: Path, what: str, long_line: Callable[[int, bytes], dict[str, Any]]) -> list[dict[str, Any]]:
    """Every record of a JSON Lines file, in order: runs of short lines parsed as arrays,
    long lines by `long_line(lineno, line)`."""
    lines = _lines(path)
    records: list[dict[str, Any]] = []
    start = 0
    for i, line in enumerate(lines):
        if len(line) > LONG_LINE:
            records += _parse_run(path, lines, start, i, what)
            records.append(long_line(i + 1, line))
            start = i + 1
    records += _parse_run(path, lines, start, len(lines), what)
    return records


def _parse_run(path: Path, lines: list[bytes], start: int, end: int, what: str) -> list[dict[str, Any]]:
    chunk = [line for line in lines[start:end] if line.strip()]
    if not chunk:
        return []
    try:
        parsed = orjson.loads(b"[" + b",".join(chunk) + b"]")
    except orjson.JSONDecodeError:
        parsed = None
    # a torn line could join the next into one valid value: the count tells
    if parsed is not None and len(parsed) == len(chunk) and all(isinstance(r, dict) for r in parsed):
        return parsed
    return [_parse_line(path, i + 1, lines[i], what) for i in range(start, end) if lines[i].strip()]


def _long_body(raw: bytes) -> dict[str, Any]:
    """A long body's stand-in. Its type is its first "type" key, its ids the last
    `msg_id`/`in_reply_to` (the SDK adds them after the payload); the text is cut."""
    found = _TYPE.search(raw)
    body: dict[str, Any] = {"type": orjson.loads(b'"' + found[1] + b'"') if found else "?"}
    for key in (b"msg_id", b"in_reply_to"):
        at = raw.rfind(b'"' + key + b'":')
        if at >= 0:
            number = _INT_AFTER.match(raw, at + len(key) + 3)
            if number is not None:
                body[key.decode()] = int(number[0])
    body[TRUNCATED] = f"{len(raw):,} bytes; the first {BODY_LIMIT:,}:"
    body["text"] = raw[:BODY_LIMIT].decode("utf-8", "replace")
    return body


def _lines(path: Path) -> list[bytes]:
    try:
        return path.read_bytes().split(b"\n")
    except OSError as exc:
        raise ReportError(f"{path}: {exc.strerror or exc}") from exc


def _parse_line(path: Path, lineno: int, line: bytes, what: str) -> dict[str, Any]:
    try:
        rec = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ReportError(f"{path}:{lineno}: not JSON ({exc})") from None
    if not isinstance(rec, dict):
        raise ReportError(f"{path}:{lineno}: not {what} (a JSON object per line)")
    return rec


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
        history = read_history(root / "history.jsonl")
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
            self.messages = read_messages(self.path / "messages.jsonl")

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
