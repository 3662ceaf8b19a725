"""RESP2, sans-I/O: feed bytes in, take commands (or replies) out, encode replies.

Nothing here touches a socket, so the same code serves the asyncio server, the
thread-pool servers and the client, and the tests can drive it byte by byte.

Requests are parsed the way redis parses them: a line starting with ``*`` opens an
array of bulk strings; any other line is an *inline* command split on blanks with
redis' quoting rules (so ``telnet`` and ``printf | nc`` work).  Limits bound the
memory one connection can make the server allocate; breaking one, or any malformed
framing, raises :class:`ProtocolError`, after which the connection must be closed
because the byte stream can no longer be re-synchronised.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

try:  # hiredis: the C reply reader redis-py uses; optional, see FastCommandParser
    import hiredis as _hiredis
except ImportError:  # pragma: no cover - the pure-Python parser serves alone
    _hiredis = None

HIREDIS = _hiredis is not None

__all__ = [
    "DEFAULT_MAX_ARRAY_LEN",
    "DEFAULT_MAX_BULK_LEN",
    "DEFAULT_MAX_INLINE_LEN",
    "INCOMPLETE",
    "HIREDIS",
    "CommandParser",
    "FastCommandParser",
    "ProtocolError",
    "ReplyError",
    "ReplyParser",
    "encode_array",
    "encode_bulk",
    "encode_command",
    "encode_error",
    "encode_integer",
    "encode_simple",
    "split_inline",
]

# redis allows 512 MiB bulk strings; a Python server holding several such values at
# once would fall over first, so the default is lower and the server exposes a flag.
DEFAULT_MAX_BULK_LEN = 64 * 1024 * 1024
DEFAULT_MAX_ARRAY_LEN = 1024 * 1024
# Same as redis' PROTO_INLINE_MAX_SIZE: also bounds header lines (``*N``, ``$N``).
DEFAULT_MAX_INLINE_LEN = 64 * 1024

CRLF = b"\r\n"


class ProtocolError(Exception):
    """The peer broke RESP framing or a limit; the message is one line, redis-style."""


class ReplyError(Exception):
    """A ``-ERR ...`` reply, returned (not raised) by :class:`ReplyParser`."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ReplyError) and self.args == other.args

    def __hash__(self) -> int:
        return hash(self.args)


# --------------------------------------------------------------------------- encoding


def encode_simple(text: str) -> bytes:
    """``+text``; CR/LF are replaced so a message can never split the stream."""
    return b"+" + _one_line(text) + CRLF


def encode_error(text: str) -> bytes:
    """``-text``; callers pass e.g. ``"ERR unknown command 'X'"``."""
    return b"-" + _one_line(text) + CRLF


def encode_integer(n: int) -> bytes:
    return b":%d\r\n" % n


def encode_bulk(data: bytes | None) -> bytes:
    """``$len`` + data, or the null bulk string ``$-1`` for None (a missing key)."""
    if data is None:
        return b"$-1\r\n"
    return b"$%d\r\n%b\r\n" % (len(data), data)


def encode_array(items: Iterable[bytes] | None) -> bytes:
    """An array of already-encoded replies, or the null array for None."""
    if items is None:
        return b"*-1\r\n"
    items = list(items)
    return b"*%d\r\n" % len(items) + b"".join(items)


def encode_command(*args: bytes | str | int) -> bytes:
    """A request as clients send it: an array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode()
        elif isinstance(arg, int):
            arg = b"%d" % arg
        parts.append(b"$%d\r\n%b\r\n" % (len(arg), arg))
    return b"".join(parts)


def _one_line(text: str) -> bytes:
    return text.replace("\r", " ").replace("\n", " ").encode("utf-8", "replace")


# --------------------------------------------------------------------------- requests


class CommandParser:
    """Incremental request parser: :meth:`feed` bytes, iterate :meth:`commands`.

    State survives between feeds, so a request split anywhere (even inside ``\\r\\n``)
    is completed by the next feed, and a big bulk string arriving in many pieces is
    joined once, when it is complete (not re-copied per piece).  Oversized headers are
    rejected as soon as they are read, before the body arrives, so a lying
    ``$4000000000`` allocates nothing.  Complete requests (the common case) take a fast
    path that parses them in one go.
    """

    def __init__(
        self,
        max_bulk_len: int = DEFAULT_MAX_BULK_LEN,
        max_array_len: int = DEFAULT_MAX_ARRAY_LEN,
        max_inline_len: int = DEFAULT_MAX_INLINE_LEN,
    ) -> None:
        self.max_bulk_len = max_bulk_len
        self.max_array_len = max_array_len
        self.max_inline_len = max_inline_len
        self._buf = b""  # bytes: slicing it yields hashable keys with a single copy
        self._pos = 0
        self._more: list[bytes] = []  # fed but not yet joined into _buf
        self._more_len = 0
        self._need = 0  # unread bytes needed before parsing can progress
        self._args: list[bytes] | None = None  # array being assembled
        self._missing = 0  # elements still to read for _args
        self._bulk = -1  # length of the bulk string being waited for, or -1
        self._ready: deque[list[bytes]] = deque()  # parsed by the fast path, not yet taken
        self.failed = False

    @property
    def buffered(self) -> int:
        """Bytes received but not yet consumed (part of an unfinished request)."""
        return len(self._buf) - self._pos + self._more_len

    @property
    def idle(self) -> bool:
        """True between requests: nothing half-read."""
        return self._args is None and not self._ready and self.buffered == 0

    @property
    def pending(self) -> bool:
        """True if bytes or parsed commands are waiting (more may follow without a read)."""
        return bool(self._ready) or self._pos < len(self._buf) or bool(self._more)

    def push_back(self, cmd: list[bytes]) -> None:
        """Return a command taken by next_command, to be taken again first."""
        self._ready.appendleft(cmd)

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        if data:
            self._more.append(bytes(data))
            self._more_len += len(data)

    def take(self, data: bytes) -> list[list[bytes]] | None:
        """Feed ``data``; return the command it completes if that is the only one waiting
        (a server's hot path: one request per read), as a one-element list, else None with
        everything queued. Raises ProtocolError as :meth:`next_command` does.
        """
        self.feed(data)
        cmd = self.next_command()
        if cmd is None:
            return None
        if self.pending:
            self.push_back(cmd)
            return None
        return [cmd]

    def push_back_all(self, cmds: list[list[bytes]]) -> None:
        """Queue commands taken by :meth:`take` but not run, to be taken again first."""
        self._ready.extendleft(reversed(cmds))

    def commands(self) -> Iterator[list[bytes]]:
        """Yield every complete command buffered so far, in order."""
        while True:
            cmd = self.next_command()
            if cmd is None:
                return
            yield cmd

    def next_command(self) -> list[bytes] | None:
        """The next complete command, or None until more bytes arrive.

        Raises ProtocolError (and keeps raising it) once the stream is malformed.
        """
        if self._ready:
            return self._ready.popleft()
        if self.failed:
            raise ProtocolError("Protocol error: stream already failed")
        if self._more:
            if self._more_len + len(self._buf) - self._pos < self._need:
                return None  # e.g. still short of a big bulk string: do not re-join
            self._merge()
        elif self._pos >= len(self._buf):
            return None
        try:
            if self._args is None and self._fast():
                return self._ready.popleft()
            cmd = self._next()
        except ProtocolError:
            self.failed = True
            raise
        if cmd is None:
            self._need = self._bulk + 2 if self._bulk >= 0 else len(self._buf) - self._pos + 1
        else:
            self._need = 0
        return cmd

    def _merge(self) -> None:
        parts = self._more
        if self._pos < len(self._buf):
            parts.insert(0, self._buf[self._pos :])
        self._buf = parts[0] if len(parts) == 1 else b"".join(parts)
        self._pos = 0
        self._more = []
        self._more_len = 0

    def _fast(self) -> bool:
        """Parse every complete, well-formed array at the read position into ``_ready``.

        One ``split`` finds all the CRLFs of a pipeline at C speed; a bulk string that
        itself contains CRLF no longer matches its length header, which sends it (and
        anything unusual: partial data, errors, inline commands) to :meth:`_next`, the
        precise slow path.  Returns whether it parsed anything.
        """
        buf, pos = self._buf, self._pos
        if buf[pos] != 0x2A:
            return False
        pieces = (buf[pos:] if pos else buf).split(CRLF)
        last = len(pieces) - 1  # pieces[last] is not CRLF-terminated: never complete
        limit = self.max_bulk_len
        max_n = self.max_array_len
        ready = self._ready
        i = 0
        while i < last:
            head = pieces[i]
            try:
                n = int(head[1:])
            except ValueError:
                break
            j = i + 1 + 2 * n  # index after the command's pieces
            if n <= 0 or n > max_n or j > last or head != b"*%d" % n:
                break
            consumed = len(head) + 2 + 4 * n  # every piece is followed by CRLF
            for k in range(i + 1, j, 2):
                hdr = pieces[k]
                size = len(pieces[k + 1])
                if size > limit or hdr != b"$%d" % size:
                    break
                consumed += len(hdr) + size
            else:
                ready.append(pieces[i + 2 : j : 2])
                pos += consumed
                i = j
                continue
            break
        self._pos = pos
        return bool(ready)

    def _next(self) -> list[bytes] | None:
        buf = self._buf
        while True:
            if self._args is None:
                # Start of a request.
                if self._pos >= len(buf):
                    return None
                if buf[self._pos] != 0x2A:  # not '*': inline command
                    cmd = self._inline()
                    if cmd is None or cmd:
                        return cmd
                    continue  # empty line: ignored, like redis
                end = buf.find(CRLF, self._pos)
                if end < 0:
                    if len(buf) - self._pos > self.max_inline_len:
                        raise ProtocolError("Protocol error: too big mbulk count string")
                    return None
                n = _parse_int(buf, self._pos + 1, end, "invalid multibulk length")
                if n > self.max_array_len:
                    raise ProtocolError("Protocol error: invalid multibulk length")
                self._pos = end + 2
                if n <= 0:
                    continue  # *0 / *-1: nothing to run, like redis
                self._args = []
                self._missing = n
                self._bulk = -1
            # Inside an array: read bulk strings.
            while self._missing:
                if self._bulk < 0:
                    pos = self._pos
                    if pos >= len(buf):
                        return None
                    if buf[pos] != 0x24:  # '$'
                        raise ProtocolError(f"Protocol error: expected '$', got '{chr(buf[pos])}'")
                    end = buf.find(CRLF, pos)
                    if end < 0:
                        if len(buf) - pos > self.max_inline_len:
                            raise ProtocolError("Protocol error: too big bulk count string")
                        return None
                    n = _parse_int(buf, pos + 1, end, "invalid bulk length")
                    if n < 0 or n > self.max_bulk_len:
                        raise ProtocolError("Protocol error: invalid bulk length")
                    self._bulk = n
                    self._pos = end + 2
                n = self._bulk
                start = self._pos
                if len(buf) - start < n + 2:
                    return None
                if buf[start + n : start + n + 2] != CRLF:
                    raise ProtocolError("Protocol error: bulk string not terminated by CRLF")
                self._args.append(buf[start : start + n])
                self._pos = start + n + 2
                self._bulk = -1
                self._missing -= 1
            cmd, self._args = self._args, None
            return cmd

    def _inline(self) -> list[bytes] | None:
        buf = self._buf
        end = buf.find(b"\n", self._pos)
        if end < 0:
            if len(buf) - self._pos > self.max_inline_len:
                raise ProtocolError("Protocol error: too big inline request")
            return None
        if end - self._pos > self.max_inline_len:
            raise ProtocolError("Protocol error: too big inline request")
        line = buf[self._pos : end]
        self._pos = end + 1
        if line.endswith(b"\r"):
            line = line[:-1]
        args = split_inline(line)
        if args is None:
            raise ProtocolError("Protocol error: unbalanced quotes in request")
        return args


# Canonical encodings of 1..3-argument commands in one %-format (GET k, SET k v, PING).
_FORMAT2 = b"*2\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n"
_FORMAT3 = b"*3\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n"
_FORMAT1 = b"*1\r\n$%d\r\n%b\r\n"


def _canonical(cmd: list[bytes]) -> bytes:
    """The only bytes a well-formed request parsing to ``cmd`` can be (TypeError if not bytes)."""
    n = len(cmd)
    if n == 3:
        a, b, c = cmd
        return _FORMAT3 % (len(a), a, len(b), b, len(c), c)
    if n == 2:
        a, b = cmd
        return _FORMAT2 % (len(a), a, len(b), b)
    if n == 1:
        a = cmd[0]
        return _FORMAT1 % (len(a), a)
    if n == 0:
        raise TypeError("empty array")  # *0: the Python parser skips it; let it
    return b"*%d\r\n" % n + b"".join([b"$%d\r\n%b\r\n" % (len(x), x) for x in cmd])


def _canonical_all(cmds: list[list[bytes]]) -> bytes:
    """``b"".join(map(_canonical, cmds))``, a third cheaper when all have 2 or 3 arguments
    (a pipeline of GETs or SETs); TypeError if any is not a list of bytes."""
    try:
        n = len(cmds[0])
        if n == 2:
            return b"".join([_FORMAT2 % (len(a), a, len(b), b) for a, b in cmds])
        if n == 3:
            return b"".join([_FORMAT3 % (len(a), a, len(b), b, len(c), c) for a, b, c in cmds])
    except ValueError:  # arities differ
        pass
    return b"".join(map(_canonical, cmds))


class FastCommandParser(CommandParser):
    """:class:`CommandParser` with hiredis's C reader in front, for whole requests.

    hiredis parses replies, and a request is an array of bulk strings, which is a reply
    too; but it is laxer than redis about requests (it takes ``+``, ``:``, ``=`` ...
    elements, and does not check the CRLF after a bulk string) and knows neither inline
    commands nor our limits. So it is used speculatively: a chunk that arrives while the
    Python parser holds nothing is parsed by hiredis, and the commands it yields are kept
    only if their canonical encoding is exactly the chunk's prefix (one %-format and a
    memcmp per command, much cheaper than parsing in Python). Whatever is not such a
    prefix (a partial request, inline commands, anything malformed or over a limit) goes
    to the Python parser as if hiredis had never seen it, so errors and their messages,
    limits and chunking behave exactly as :class:`CommandParser`'s.
    """

    def __init__(
        self,
        max_bulk_len: int = DEFAULT_MAX_BULK_LEN,
        max_array_len: int = DEFAULT_MAX_ARRAY_LEN,
        max_inline_len: int = DEFAULT_MAX_INLINE_LEN,
    ) -> None:
        super().__init__(max_bulk_len, max_array_len, max_inline_len)
        self._reader = _hiredis.Reader() if _hiredis is not None else None
        # A chunk this short cannot hold a bulk string over the limit, nor an array over
        # it (an element takes at least 6 bytes: "$0\r\n\r\n").
        self._small = min(max_bulk_len, 6 * max_array_len)

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if (
            self._reader is None
            or data[0] != 0x2A  # not '*': inline, or the rest of a request Python holds
            or self._more
            or self._pos < len(self._buf)
            or self._args is not None
            or self.failed
        ):
            super().feed(data)
            return
        cmds = self._speculate(data if type(data) is bytes else bytes(data), None)
        if cmds:
            self._ready.extend(cmds)

    def take(self, data: bytes) -> list[list[bytes]] | None:
        """The requests ``data`` holds if it is nothing but whole requests and nothing else
        is queued (or, as :meth:`CommandParser.take`, the one request it completes); else
        None, and ``data`` is fed as by :meth:`feed`. The server's hot path: no queue
        between parsing and answering."""
        reader = self._reader
        if (
            reader is None
            or data[:1] != b"*"
            or self._ready
            or self._more
            or self._pos < len(self._buf)
            or self._args is not None
            or self.failed
        ):
            return super().take(data)  # the Python parser holds something: it decides
        try:
            reader.feed(data)
            cmd = reader.gets()
            # hiredis reads canonical bytes exactly, so equality means it read all of them.
            if (
                cmd is not False
                and _canonical(cmd) == data
                and (
                    len(data) <= self._small
                    or (len(cmd) <= self.max_array_len and max(map(len, cmd)) <= self.max_bulk_len)
                )
            ):
                return [cmd]
        except Exception:  # noqa: BLE001 - anything odd: the Python parser decides
            self._reader = _hiredis.Reader()
            super().feed(data)
            return None
        return self._speculate(data, cmd)  # several requests, a partial one, or an odd one

    def _speculate(self, data: bytes, cmd: object) -> list[list[bytes]] | None:
        """The requests hiredis parses from ``data`` (``cmd``: the first, if already taken)
        while they re-encode to its prefix. If they cover all of ``data`` they are returned;
        else they are queued, the Python parser gets the rest, and None is returned. On any
        surprise the Python parser gets all of ``data``, as if hiredis had never seen it."""
        reader = self._reader
        assert reader is not None
        cmds: list[list[bytes]] = []
        done = 0
        try:
            if cmd is None:
                reader.feed(data)
                cmd = reader.gets()
            got = []
            while cmd is not False:
                got.append(cmd)
                cmd = reader.gets()
            # A pipeline of whole requests (-P 16): one join and one compare check them all;
            # so short a chunk cannot hold an argument or an array over the limits.
            if got and len(data) <= self._small and _canonical_all(got) == data:
                return got  # type: ignore[return-value]
            for cmd in got:  # else find the prefix that checks out
                enc = _canonical(cmd)
                if (
                    not data.startswith(enc, done)
                    or len(cmd) > self.max_array_len
                    or (len(enc) > self.max_bulk_len and max(map(len, cmd)) > self.max_bulk_len)
                ):
                    break
                done += len(enc)
                cmds.append(cmd)
        except Exception:  # noqa: BLE001 - anything odd: the Python parser decides
            cmds.clear()
            done = 0
        if done == len(data):
            return cmds
        # hiredis holds a partial request, or garbage: drop it, Python takes it from here
        self._reader = _hiredis.Reader()
        self._ready.extend(cmds)
        super().feed(data[done:] if done else data)
        return None


def make_command_parser(
    max_bulk_len: int = DEFAULT_MAX_BULK_LEN,
    max_array_len: int = DEFAULT_MAX_ARRAY_LEN,
    max_inline_len: int = DEFAULT_MAX_INLINE_LEN,
) -> CommandParser:
    """The fastest request parser available: hiredis-backed if hiredis is installed."""
    cls = FastCommandParser if HIREDIS else CommandParser
    return cls(max_bulk_len, max_array_len, max_inline_len)


def _parse_int(buf: bytes, start: int, end: int, what: str) -> int:
    """A strict decimal: redis rejects blanks, '+', '_' and empty numbers."""
    raw = buf[start:end]
    if not raw or len(raw) > 20 or not (raw.isdigit() or (raw[:1] == b"-" and raw[1:].isdigit())):
        raise ProtocolError(f"Protocol error: {what}")
    return int(raw)


_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("a"): 7}
_HEX = b"0123456789abcdefABCDEF"


def split_inline(line: bytes) -> list[bytes] | None:
    """Split an inline command like redis' sdssplitargs; None on unbalanced quotes."""
    args: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in b" \t\n\r\v\f\x00":
            i += 1
        if i >= n:
            return args
        cur = bytearray()
        in_dq = in_sq = False
        while True:
            if in_dq:
                if i >= n:
                    return None
                c = line[i]
                if (
                    c == 0x5C
                    and i + 3 < n
                    and line[i + 1] == ord("x")
                    and line[i + 2] in _HEX
                    and line[i + 3] in _HEX
                ):
                    cur.append(int(line[i + 2 : i + 4], 16))
                    i += 3
                elif c == 0x5C and i + 1 < n:
                    i += 1
                    cur.append(_ESCAPES.get(line[i], line[i]))
                elif c == 0x22:
                    if i + 1 < n and line[i + 1] not in b" \t\n\r\v\f":
                        return None
                    i += 1
                    break
                else:
                    cur.append(c)
            elif in_sq:
                if i >= n:
                    return None
                c = line[i]
                if c == 0x5C and i + 1 < n and line[i + 1] == 0x27:
                    i += 1
                    cur.append(0x27)
                elif c == 0x27:
                    if i + 1 < n and line[i + 1] not in b" \t\n\r\v\f":
                        return None
                    i += 1
                    break
                else:
                    cur.append(c)
            else:
                if i >= n:
                    break
                c = line[i]
                if c in b" \n\r\t\x00":
                    break
                if c == 0x22:
                    in_dq = True
                elif c == 0x27:
                    in_sq = True
                else:
                    cur.append(c)
            i += 1
        args.append(bytes(cur))


# --------------------------------------------------------------------------- replies

INCOMPLETE = object()  # sentinel: "not a whole reply yet"

Reply = bytes | str | int | None | ReplyError | list["Reply"]


class ReplyParser:
    """Incremental parser of server replies, for the client and the tests.

    Simple strings come back as ``str``, bulk strings as ``bytes`` (None for ``$-1``),
    integers as ``int``, errors as :class:`ReplyError` instances, arrays as lists.
    """

    def __init__(self, max_bulk_len: int = 512 * 1024 * 1024) -> None:
        self.max_bulk_len = max_bulk_len
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        self._buf += data

    def next_reply(self) -> Reply | object:
        """The next complete reply, or :data:`INCOMPLETE` if more bytes are needed."""
        res = self._parse(0)
        if res is INCOMPLETE:
            return INCOMPLETE
        value, pos = res  # type: ignore[misc]
        del self._buf[:pos]
        return value

    def _parse(self, pos: int) -> tuple[Reply, int] | object:
        buf = self._buf
        end = buf.find(CRLF, pos)
        if end < 0:
            return INCOMPLETE
        kind, line = buf[pos], bytes(buf[pos + 1 : end])
        nxt = end + 2
        if kind == 0x2B:  # +
            return line.decode("utf-8", "replace"), nxt
        if kind == 0x2D:  # -
            return ReplyError(line.decode("utf-8", "replace")), nxt
        try:
            n = int(line)
        except ValueError:
            raise ProtocolError(
                f"Protocol error: bad reply header {bytes(buf[pos:end])!r}"
            ) from None
        if kind == 0x3A:  # :
            return n, nxt
        if kind == 0x24:  # $
            if n < 0:
                return None, nxt
            if n > self.max_bulk_len:
                raise ProtocolError("Protocol error: invalid bulk length")
            if len(buf) < nxt + n + 2:
                return INCOMPLETE
            return bytes(buf[nxt : nxt + n]), nxt + n + 2
        if kind == 0x2A:  # *
            if n < 0:
                return None, nxt
            items: list[Reply] = []
            for _ in range(n):
                res = self._parse(nxt)
                if res is INCOMPLETE:
                    return INCOMPLETE
                item, nxt = res  # type: ignore[misc]
                items.append(item)
            return items, nxt
        raise ProtocolError(f"Protocol error: unknown reply type {chr(kind)!r}")
