"""The Maelstrom wire protocol: envelope, JSON-lines codec, error codes, validation.

Every runtime (simulator, process harness, a node's own stdin/stdout loop) goes
through this module, so a message that one runtime accepts is accepted by all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

MAX_LINE_BYTES = 1 << 20
"""Longest protocol line accepted (1 MiB); longer ones are a node bug, not a message."""

SERVICE_IDS = ("lin-kv", "seq-kv", "lww-kv", "lin-tso", "backend")


class ProtocolError(ValueError):
    """A line or message that breaks the protocol; the text is one line naming the cause."""


@dataclass(frozen=True, slots=True)
class ErrorCode:
    code: int
    name: str
    definite: bool


ERRORS: dict[int, ErrorCode] = {
    e.code: e
    for e in (
        ErrorCode(0, "timeout", False),
        ErrorCode(1, "node-not-found", True),
        ErrorCode(10, "not-supported", True),
        ErrorCode(11, "temporarily-unavailable", True),
        ErrorCode(12, "malformed-request", True),
        ErrorCode(13, "crash", False),
        ErrorCode(14, "abort", True),
        ErrorCode(20, "key-does-not-exist", True),
        ErrorCode(21, "key-already-exists", True),
        ErrorCode(22, "precondition-failed", True),
        ErrorCode(30, "txn-conflict", True),
    )
}

TIMEOUT = 0
NODE_NOT_FOUND = 1
NOT_SUPPORTED = 10
TEMPORARILY_UNAVAILABLE = 11
MALFORMED_REQUEST = 12
CRASH = 13
ABORT = 14
KEY_DOES_NOT_EXIST = 20
KEY_ALREADY_EXISTS = 21
PRECONDITION_FAILED = 22
TXN_CONFLICT = 30


def is_definite(code: int) -> bool:
    """Whether an error proves the operation did not happen.

    Unknown reserved codes and every custom code (1000+) are indefinite: claiming
    an operation failed when it may have happened would hide real anomalies.
    """
    known = ERRORS.get(code)
    return known.definite if known is not None else False


def error_name(code: int) -> str:
    known = ERRORS.get(code)
    if known is not None:
        return known.name
    return "custom" if code >= 1000 else f"unknown-{code}"


class RPCError(Exception):
    """An error reply (or a local timeout, code 0) to a request.

    Raise it from a handler to answer with that error; `Node.rpc` raises it when
    the peer answers with an error or does not answer in time.
    """

    def __init__(self, code: int, text: str = "") -> None:
        self.code = int(code)
        self.text = text
        super().__init__(f"error {self.code} ({error_name(self.code)}){': ' + text if text else ''}")

    @property
    def definite(self) -> bool:
        return is_definite(self.code)

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": "error", "code": self.code}
        if self.text:
            body["text"] = self.text
        return body

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> RPCError:
        code = body.get("code")
        ok = isinstance(code, int) and not isinstance(code, bool)
        return cls(code if ok else CRASH, str(body.get("text", "")))


@dataclass(slots=True)
class Message:
    """One protocol message. `id` is the harness's own number, when it gives one."""

    src: str
    dest: str
    body: dict[str, Any]
    id: int | None = field(default=None)

    @property
    def type(self) -> str:
        return self.body["type"]

    @property
    def msg_id(self) -> int | None:
        return self.body.get("msg_id")

    @property
    def in_reply_to(self) -> int | None:
        return self.body.get("in_reply_to")

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"src": self.src, "dest": self.dest, "body": self.body}
        if self.id is not None:
            d["id"] = self.id
        return d


def _short(line: bytes | str, limit: int = 120) -> str:
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    # Escape line breaks so the error stays one line even for multi-line input.
    text = text.rstrip("\r\n").replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


_JSON_KINDS = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


def validate(obj: Any) -> Message:
    """Check the envelope and body fields every message must have."""
    if not isinstance(obj, dict):
        kind = "null" if obj is None else _JSON_KINDS.get(type(obj), type(obj).__name__)
        raise ProtocolError(f"message is a JSON {kind}, not an object")
    for key in ("src", "dest"):
        if not isinstance(obj.get(key), str) or not obj[key]:
            raise ProtocolError(f"message has no string {key!r}")
    body = obj.get("body")
    if not isinstance(body, dict):
        raise ProtocolError("message has no object 'body'")
    mtype = body.get("type")
    if not isinstance(mtype, str) or not mtype:
        raise ProtocolError("message body has no string 'type'")
    for key in ("msg_id", "in_reply_to"):
        value = body.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ProtocolError(f"body field {key!r} is {value!r}, not an integer")
    mid = obj.get("id")
    return Message(obj["src"], obj["dest"], body, mid if isinstance(mid, int) else None)


def decode(line: bytes | str) -> Message:
    """Parse one protocol line; a ProtocolError quotes the offending line."""
    if len(line) > MAX_LINE_BYTES:
        raise ProtocolError(f"line of {len(line)} bytes exceeds the {MAX_LINE_BYTES}-byte limit")
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"not JSON ({exc.args[0].split(':')[0]}): {_short(line)}") from None
    try:
        return validate(obj)
    except ProtocolError as exc:
        raise ProtocolError(f"{exc}: {_short(line)}") from None


def encode(msg: Message | dict[str, Any]) -> bytes:
    """One newline-terminated JSON line; orjson never emits raw newlines inside."""
    obj = msg.to_dict() if isinstance(msg, Message) else msg
    try:
        return orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError as exc:
        raise ProtocolError(f"message is not JSON-serialisable: {exc}") from None


def dumps(obj: Any) -> bytes:
    """Canonical JSON (sorted keys) for traces and histories that must hash the same."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


loads = orjson.loads
