"""Grades a sans-I/O Redis-protocol server: `KvServer(folder)` with `feed(bytes) ->
bytes` (what arrived on a connection -> what to send back) and optional `close()`.

Commands are sent as redis-cli sends them, RESP arrays of bulk strings; replies are
compared byte for byte (any "-ERR ..." passes where an error is expected). A failure
names the command, the bytes expected and the bytes returned."""

from __future__ import annotations

import gc
import random
import sysconfig
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = str(Path(__file__).resolve())  # the grader's own frames are not the learner's
LIBRARY = tuple(sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platstdlib"))
ERROR = b"-ERR"


class Wrong(Exception):
    """The server answered wrongly: the message is the reason shown to the learner."""


def _raised(call: str, exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename != HERE and not f.filename.startswith(LIBRARY)]
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{call} raised {type(exc).__name__}: {exc}{where}"


def command(*args: str | bytes) -> bytes:
    """One command as redis-cli sends it: an array of bulk strings (str sent as UTF-8)."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        raw = arg if isinstance(arg, bytes) else arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(parts)


def _show(args: tuple[str | bytes, ...]) -> str:
    shown = [a if isinstance(a, str) else a.decode() if a.isascii() and a.decode().isprintable() else repr(a)
             for a in args]
    return " ".join(a if len(a) < 24 else a[:21] + "..." for a in shown)


class Session:
    """The server under test, serving one folder, restarted on demand."""

    def __init__(self, cls: Any, folder: Path) -> None:
        self.cls, self.folder = cls, folder
        self.server = self.start()

    def start(self) -> Any:
        try:
            return self.cls(str(self.folder))
        except Exception as exc:  # noqa: BLE001 - the learner's bug, as a sentence
            raise Wrong(_raised("KvServer(folder)", exc)) from None

    def feed(self, data: bytes, what: str) -> bytes:
        try:
            reply = self.server.feed(data)
        except Exception as exc:  # noqa: BLE001
            raise Wrong(_raised(f"feed() of {what}", exc)) from None
        if not isinstance(reply, (bytes, bytearray)):
            raise Wrong(f"feed() of {what} returned a {type(reply).__name__}, not bytes")
        return bytes(reply)

    def ask(self, *args: str | bytes, want: bytes, note: str = "") -> None:
        """Send one command; the reply must be `want` (or any error if want is ERROR)."""
        try:
            got = self.feed(command(*args), f"'{_show(args)}'")
        except Wrong as exc:
            raise Wrong(f"{exc}{note}") from None
        ok = got.startswith(ERROR) and got.endswith(b"\r\n") if want == ERROR else got == want
        if not ok:
            shown = "an error (-ERR ...)" if want == ERROR else repr(want)
            raise Wrong(f"'{_show(args)}' got {got!r}; expected {shown}{note}")

    def restart(self) -> None:
        close = getattr(self.server, "close", None)
        if callable(close):
            try:
                close()
            except Exception as exc:  # noqa: BLE001
                raise Wrong(_raised("close()", exc)) from None
        self.server = None
        gc.collect()
        self.server = self.start()


def ping(s: Session, rng: random.Random) -> None:
    s.ask("PING", want=b"+PONG\r\n")
    s.ask("ping", want=b"+PONG\r\n", note=" (command names are case-insensitive: redis-cli sends "
          "them as typed)")


def set_then_get(s: Session, rng: random.Random) -> None:
    s.ask("SET", "key1", "value1", want=b"+OK\r\n")
    s.ask("GET", "key1", want=b"$6\r\nvalue1\r\n")
    s.ask("SET", "key1", "v2", want=b"+OK\r\n")
    s.ask("GET", "key1", want=b"$2\r\nv2\r\n", note=" (after overwriting key1)")


def get_missing_is_nil(s: Session, rng: random.Random) -> None:
    s.ask("GET", "nosuchkey", want=b"$-1\r\n", note=" (the nil bulk string)")


def del_counts_removed_keys(s: Session, rng: random.Random) -> None:
    s.ask("SET", "a", "1", want=b"+OK\r\n")
    s.ask("DEL", "a", "b", want=b":1\r\n", note=" (DEL answers how many keys it removed; "
          "a missing key is not an error)")
    s.ask("GET", "a", want=b"$-1\r\n", note=" after DEL a")
    s.ask("DEL", "a", want=b":0\r\n", note=" (a second DEL removes nothing)")


def pipelined_commands(s: Session, rng: random.Random) -> None:
    data = command("SET", "p", "1") + command("GET", "p") + command("PING")
    want = b"+OK\r\n$1\r\n1\r\n+PONG\r\n"
    got = s.feed(data, "three pipelined commands")
    if got != want:
        raise Wrong(f"three commands sent in one read (SET p 1, GET p, PING) got {got!r}; "
                    f"expected {want!r}, a reply for each, in order")


def command_split_across_reads(s: Session, rng: random.Random) -> None:
    data = command("SET", "split", "across-reads")
    cut = sorted(rng.sample(range(1, len(data)), 3))
    pieces = [data[a:b] for a, b in zip([0, *cut], [*cut, len(data)], strict=True)]
    replies = [s.feed(p, f"part {i + 1} of 4 of one SET") for i, p in enumerate(pieces)]
    if any(replies[:-1]) or replies[-1] != b"+OK\r\n":
        raise Wrong(f"one SET delivered in four reads (cut at bytes {cut}) got replies "
                    f"{replies!r}; expected nothing until the command is complete, then "
                    "b'+OK\\r\\n' (keep the partial command in a buffer)")
    s.ask("GET", "split", want=b"$12\r\nacross-reads\r\n")


def binary_safe_values(s: Session, rng: random.Random) -> None:
    value = "line one\r\nline two: café *3 $5"
    raw = value.encode()
    s.ask("SET", "bin", value, want=b"+OK\r\n")
    s.ask("GET", "bin", want=b"$%d\r\n%s\r\n" % (len(raw), raw),
          note=" (a bulk string's length counts bytes, and its data may hold CRLF)")


NOT_TEXT = {b"raw": b"\xff\x00\xfe", b"key-\xc0\xfe": b"\x80\r\n\xe9t\xe9"}
"""Keys and values that are not UTF-8 text: bytes no UTF-8 sequence starts with, a NUL, a
CRLF, Latin-1 accents, as an image or a packed integer holds."""

BINARY_SAFE = (" (keys and values are any bytes, not only UTF-8 text: RESP is binary-safe, so "
               "store the bytes as they came)")


def values_that_are_not_text(s: Session, rng: random.Random) -> None:
    for key, value in NOT_TEXT.items():
        s.ask("SET", key, value, want=b"+OK\r\n", note=BINARY_SAFE)
    for key, value in NOT_TEXT.items():
        s.ask("GET", key, want=b"$%d\r\n%s\r\n" % (len(value), value), note=BINARY_SAFE)
    s.restart()
    for key, value in NOT_TEXT.items():
        s.ask("GET", key, want=b"$%d\r\n%s\r\n" % (len(value), value),
              note=f" after a restart on the same folder{BINARY_SAFE}")


def errors_are_errors(s: Session, rng: random.Random) -> None:
    s.ask("FLY", "me", "to", "the", "moon", want=ERROR, note=" for an unknown command")
    s.ask("GET", want=ERROR, note=" for GET without a key")
    s.ask("PING", want=b"+PONG\r\n", note=" after two errors (the connection goes on)")


def data_survives_a_restart(s: Session, rng: random.Random) -> None:
    model = {f"key{k}": f"value-{rng.randrange(10**6)}" for k in range(50)}
    for key, value in model.items():
        s.ask("SET", key, value, want=b"+OK\r\n")
    s.ask("DEL", "key0", want=b":1\r\n")
    s.restart()
    s.ask("GET", "key0", want=b"$-1\r\n", note=" after DEL key0 and a restart")
    for key, value in list(model.items())[1:]:
        s.ask("GET", key, want=b"$%d\r\n%s\r\n" % (len(value), value.encode()),
              note=" after a restart on the same folder")


SCENARIOS: dict[str, Callable[[Session, random.Random], None]] = {
    "ping": ping,
    "set then get": set_then_get,
    "get of a missing key is nil": get_missing_is_nil,
    "del counts removed keys": del_counts_removed_keys,
    "pipelined commands": pipelined_commands,
    "a command split across reads": command_split_across_reads,
    "binary-safe values": binary_safe_values,
    "values that are not UTF-8 text": values_that_are_not_text,
    "errors are errors": errors_are_errors,
    "data survives a restart": data_survives_a_restart,
}


def scenarios() -> list[str]:
    """The graded scenarios, in the order they run."""
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    """Run one scenario on `target(tmpdir)`; None if it passed, else the reason."""
    if not callable(target):
        return f"{target!r} is not a class: the grader starts a server with KvServer(folder)"
    with tempfile.TemporaryDirectory(prefix="distlab-resp-") as tmp:
        session = None
        try:
            session = Session(target, Path(tmp) / "db")
            SCENARIOS[name](session, random.Random(seed))
        except Wrong as exc:
            return str(exc)
        finally:
            close = getattr(session.server, "close", None) if session is not None else None
            if callable(close):
                try:
                    close()
                except Exception:  # noqa: BLE001, S110 - already graded; just release files
                    pass
    return None
