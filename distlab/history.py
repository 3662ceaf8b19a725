"""Operation histories: Jepsen's record shape, kept as JSON Lines.

A record is `{"index", "time" (ns since start), "process", "type", "f", "value"}`
plus `"error"` when the operation failed or is indeterminate. Invocations and
completions are separate records, as in Jepsen, so histories convert both ways.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
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
        """JSON Lines, a record at a time: joining them into one buffer first is slower
        (tens of thousands of small objects alive at once cost fresh memory pages)."""
        dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
        with open(path, "wb") as out:
            write = out.write
            for rec in self.records:
                write(dumps(rec, option=newline))


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
    """Each client invocation with its completion (None if it never completed); the
    pairing is distlab.checkers.pairing's, the one every checker uses."""
    from distlab.checkers.pairing import calls

    return [(inv, done) for _, inv, _, done in calls(list(records))]


# ---------------------------------------------------------------------------
# Readers for foreign histories.
#
# All readers return plain Python records in distlab's shape, so a checker never
# needs to know where a history came from: keywords become strings without the
# colon, EDN vectors/lists become lists, sets become (sorted) lists, maps become
# dicts with str keys, nil becomes None. Extra fields (key, time, error, ...) are
# kept; `index` is filled with the record's position when the source lacks it.


def _edn():
    # Imported lazily: edn_format pulls in ply, which is slow to import and only
    # needed for EDN input.
    import edn_format

    return edn_format


_SCALARS = (type(None), bool, int, float, str)
_KEYWORDS: dict[Any, str] = {}


def _plain(obj: Any) -> Any:
    """Convert an object read by edn_format into plain Python data."""
    t = type(obj)
    if t in _SCALARS:
        return obj
    edn = _edn()
    if t is edn.Keyword or t is edn.Symbol:
        name = _KEYWORDS.get(obj)
        if name is None:
            text = str(obj)
            name = _KEYWORDS[obj] = text[1:] if text.startswith(":") else text
        return name
    if t is edn.ImmutableList or t is list or t is tuple:
        return [_plain(v) for v in obj]
    if isinstance(obj, Mapping):
        return {_key(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, set | frozenset):
        items = [_plain(v) for v in obj]
        try:
            return sorted(items)
        except TypeError:
            return items
    return obj


def _key(k: Any) -> str:
    k = _plain(k)
    return k if isinstance(k, str) else str(k)


_EDN_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"?|;[^\n]*|\\.|[\[\](){}]|\n|#\{')


def _edn_forms(text: str, depth: int) -> list[tuple[int, int, int]]:
    """(start offset, end offset, line) of each form at bracket `depth`.

    Only used on the error path, to say which line a bad element is on: the
    EDN library reports no positions. Raises HistoryError("<line>: ...") for
    unbalanced brackets.
    """
    forms: list[tuple[int, int, int]] = []
    stack: list[tuple[int, int]] = []  # (offset, line) of each open bracket
    line = 1
    for m in _EDN_TOKEN.finditer(text):
        tok = m.group()
        if tok == "\n":
            line += 1
        elif tok[0] == '"':
            if len(tok) == 1 or not tok.endswith('"'):
                raise HistoryError(f"{line}: unterminated string")
            line += tok.count("\n")
        elif tok in ("[", "(", "{", "#{"):
            stack.append((m.start(), line))
        elif tok in ("]", ")", "}"):
            if not stack:
                raise HistoryError(f"{line}: unbalanced {tok!r}")
            start, start_line = stack.pop()
            if len(stack) == depth:
                forms.append((start, m.end(), start_line))
    if stack:
        raise HistoryError(f"{stack[-1][1]}: bracket never closed")
    return forms


def _edn_error(path: Path, text: str, index: int | None, exc: Exception | None) -> HistoryError:
    """Build a HistoryError that names the line of the offending EDN element."""
    edn = _edn()
    stripped = _strip_comments(text)
    outer = 1 if stripped[:1] in ("[", "(") else 0
    try:
        forms = _edn_forms(text, outer)
    except HistoryError as err:
        return HistoryError(f"{path}:{err}")
    if index is not None and index < len(forms):
        return HistoryError(f"{path}:{forms[index][2]}: not a history record "
                            "(an operation map needs :type)")
    for start, end, line in forms:
        try:
            edn.loads(text[start:end])
        except Exception as err:  # the library raises several exception types
            return HistoryError(f"{path}:{line}: invalid EDN ({_one_line(err)})")
    first = _first_line(text)
    return HistoryError(f"{path}:{first}: invalid EDN ({_one_line(exc) if exc else 'unreadable'})")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _strip_comments(text: str) -> str:
    """The text from its first non-blank, non-comment character."""
    for line in text.splitlines():
        s = line.strip()
        if s and not s.startswith(";"):
            return s
    return ""


def _first_line(text: str) -> int:
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s and not s.startswith(";"):
            return n
    return 1


def _fill_index(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for i, rec in enumerate(records):
        if "index" not in rec:
            rec["index"] = i
    return records


# The EDN Jepsen and Knossos histories use (maps, vectors, lists, sets, keywords, plain
# ints and floats, strings with the usual escapes, nil, true, false, comments, commas), read
# straight into plain data: edn_format's ply parser took 7 s over Elle's 2.8 MB huge-scc.
# Anything else (symbols, tags, characters, big numbers, \u escapes...) returns None and the
# file goes through edn_format as before, which also names the line of any error.
_END = r'(?![^ \t\n\r,\[\](){}";])'  # a token ends at a delimiter
_FAST_TOKEN = re.compile(
    r'(?P<skip>[ \t\n\r,]+|;[^\n]*)|(?P<open>#\{|[\[({])|(?P<close>[\])}])'
    r'|:(?P<kw>[A-Za-z*+!_?<>=.\-][\w*+!?<>=.\-]*(?:/[A-Za-z*+!_?<>=.\-][\w*+!?<>=.\-]*)?)' + _END +
    r'|(?P<int>-?(?:0|[1-9]\d*))' + _END +
    r'|(?P<float>-?(?:0|[1-9]\d*)(?:\.\d+(?:[eE][+-]?\d+)?|[eE][+-]?\d+))' + _END +
    r'|"(?P<str>[^"\\]*)"|"(?P<esc>(?:[^"\\]|\\[\\"ntr])*)"|(?P<word>nil|true|false)' + _END
)
_CLOSER = {"[": "]", "(": ")", "{": "}", "#{": "}"}
_WORDS = {"nil": None, "true": True, "false": False}
_ESCAPE = re.compile(r'\\[\\"ntr]')
_ESCAPES = {"\\\\": "\\", '\\"': '"', "\\n": "\n", "\\t": "\t", "\\r": "\r"}


def _fast_edn_forms(text: str) -> list[Any] | None:
    """The top-level forms of `text` as plain data, or None outside the simple subset."""
    top: list[Any] = []
    stack: list[tuple[str, list[Any]]] = []
    items = top
    pos, end = 0, len(text)
    match = _FAST_TOKEN.match
    while pos < end:
        m = match(text, pos)
        if m is None:
            return None
        pos = m.end()
        kind = m.lastgroup
        if kind == "skip":
            continue
        if kind == "kw":
            items.append(m.group("kw"))
        elif kind == "str":
            items.append(m.group("str"))
        elif kind == "esc":
            items.append(_ESCAPE.sub(lambda e: _ESCAPES[e.group()], m.group("esc")))
        elif kind == "int":
            items.append(int(m.group("int")))
        elif kind == "float":
            items.append(float(m.group("float")))
        elif kind == "word":
            items.append(_WORDS[m.group("word")])
        elif kind == "open":
            stack.append((m.group("open"), items))
            items = []
        else:  # close
            if not stack:
                return None
            opener, outer = stack.pop()
            if _CLOSER[opener] != m.group("close"):
                return None
            value: Any = items
            if opener == "{":
                if len(items) % 2:
                    return None
                value = {}
                for i in range(0, len(items), 2):
                    k = items[i]
                    value[k if isinstance(k, str) else str(k)] = items[i + 1]
            elif opener == "#{":
                try:
                    value = sorted(items)
                except TypeError:
                    return None
            items = outer
            items.append(value)
    return None if stack else top


def read_edn(path: Path | str) -> list[dict[str, Any]]:
    """Read a Jepsen EDN history.

    Accepted shapes: one vector `[...]` or list `(...)` of operation maps, or one
    map per line (as Jepsen's history.edn and Porcupine's kv files); `;` comments
    are allowed. Each map needs `:type` (Elle's paper example has no
    `:process`, so that one is optional). Raises HistoryError
    naming the file and the line of the first bad element.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise HistoryError(f"{path}:1: cannot read ({_one_line(exc)})") from None
    head = _strip_comments(text)
    fast = _fast_edn_forms(text)
    if fast is not None:
        if head[:1] in ("[", "("):
            if len(fast) != 1 or not isinstance(fast[0], list):
                raise _edn_error(path, text, None, ValueError("expected one vector of operations"))
            fast = fast[0]
        for i, rec in enumerate(fast):
            if not isinstance(rec, dict) or "type" not in rec:
                raise _edn_error(path, text, i, None)
        return _fill_index(fast)
    edn = _edn()
    try:
        forms = edn.loads_all(text)
    except Exception as exc:  # EDNDecodeError, but ply can raise others
        raise _edn_error(path, text, None, exc) from None
    if head[:1] in ("[", "("):
        if len(forms) != 1 or not isinstance(forms[0], list | tuple | edn.ImmutableList):
            raise _edn_error(path, text, None, ValueError("expected one vector of operations"))
        items = forms[0]
    else:
        items = forms
    records = []
    for i, item in enumerate(items):
        rec = _plain(item)
        if not isinstance(rec, dict) or "type" not in rec:
            raise _edn_error(path, text, i, None)
        records.append(rec)
    return _fill_index(records)


_LOG_LINE = re.compile(r"^\s*\S+\s+jepsen\.util\s+-\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+(.*?))?\s*$")


def _log_scalar(text: str) -> Any:
    """A value on a Jepsen log line: fast paths for the common shapes."""
    if text == "nil" or text == "":
        return None
    if text[0] == ":":
        return text[1:]
    try:
        return int(text)
    except ValueError:
        pass
    return _plain(_edn().loads(text))


def read_jepsen_log(path: Path | str) -> list[dict[str, Any]]:
    """Read Jepsen's log lines, `INFO  jepsen.util - <process> <type> <f> <value>`.

    Fields are separated by tabs or spaces; the value is the rest of the line, in
    EDN (`nil`, `3`, `[1 2]`, `:timed-out`). This is the format of Porcupine's
    etcd test data. Blank lines are skipped; any other line is a HistoryError.
    """
    path = Path(path)
    records: list[dict[str, Any]] = []
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise HistoryError(f"{path}:1: cannot read ({_one_line(exc)})") from None
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        m = _LOG_LINE.match(line)
        if m is None:
            raise HistoryError(f"{path}:{lineno}: not a Jepsen log line "
                               "('<level> jepsen.util - <process> <type> <f> <value>')")
        proc_s, type_s, f_s, value_s = m.groups()
        try:
            process: Any = int(proc_s)
        except ValueError:
            process = proc_s[1:] if proc_s.startswith(":") else proc_s
        if not type_s.startswith(":") or not f_s.startswith(":"):
            raise HistoryError(f"{path}:{lineno}: type and f must be keywords, got {type_s} {f_s}")
        try:
            value = _log_scalar(value_s or "")
        except Exception as exc:
            raise HistoryError(f"{path}:{lineno}: bad value {value_s!r} ({_one_line(exc)})") from None
        records.append({"index": len(records), "process": process, "type": type_s[1:],
                        "f": f_s[1:], "value": value})
    return records


def read_history(path: Path | str) -> list[dict[str, Any]]:
    """Read a history in any supported format, detected from its first content line.

    - distlab JSON Lines (`{"index": 0, "type": "invoke", ...}` per line),
    - Jepsen EDN (a vector/list of maps, or one map per line),
    - Jepsen log lines (`INFO  jepsen.util - 0 :invoke :read nil`).

    Records come back as plain dicts with string type/f, `process` an int or
    "nemesis", and `index` filled when absent. Raises HistoryError (one line,
    naming file and line) on malformed input.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = b""
            for raw in fh:
                s = raw.strip()
                if s and not s.startswith(b";"):
                    head = s
                    break
    except OSError as exc:
        raise HistoryError(f"{path}:1: cannot read ({_one_line(exc)})") from None
    if not head:
        return []
    if head.startswith(b'{"') or head.startswith(b"{ \""):
        return _fill_index(read_jsonl(path))
    if head[:1] in (b"[", b"(", b"{"):
        return read_edn(path)
    if b"jepsen.util" in head:
        return read_jepsen_log(path)
    raise HistoryError(f"{path}:{_first_line(path.read_text(errors='replace'))}: unknown history "
                       "format (expected JSON Lines, EDN or Jepsen log lines)")
