"""RESP command semantics shared by every kvs-server variant: one parsed command in, one reply out.

Commands: GET, SET (no options), DEL, EXISTS, PING, ECHO, QUIT; plus what real clients send
on their own: HELLO 2|3 (redis-py >= 8 insists on RESP3; our replies differ only in nulls
and maps), CONFIG GET (redis-benchmark), COMMAND (redis-cli), CLIENT SETINFO (redis-py).
Unknown commands get ``-ERR`` and keep the connection; malformed framing gets
``-ERR Protocol error: ...`` and closes it. No sockets here: the servers feed bytes in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from distlab import __version__
from distlab.systems.kvs.engines import Engine, KeyNotFound
from distlab.systems.kvs.resp import (
    CommandParser,
    ProtocolError,
    encode_bulk,
    encode_error,
    encode_integer,
)

__all__ = ["FLUSH_AT", "CommandHandler", "Session", "protocol_error_reply", "run_commands"]

log = logging.getLogger("kvs-server")

OK = b"+OK\r\n"
PONG = b"+PONG\r\n"
NIL = b"$-1\r\n"
NULL3 = b"_\r\n"
EMPTY_ARRAY = b"*0\r\n"
CONFIG_VALUES = {b"save": b"", b"appendonly": b"no"}
# Flush replies once this many bytes are pending, so a pipeline of GETs of big values
# cannot make one connection buffer gigabytes before the first byte goes out.
FLUSH_AT = 1 << 20


class Session:
    """Per-connection state: the request parser and the RESP version HELLO chose."""

    __slots__ = ("id", "nil", "parser", "resp")
    _ids = iter(range(1, 1 << 62))

    def __init__(self, parser: CommandParser) -> None:
        self.parser = parser
        self.id = next(Session._ids)
        self.resp = 2
        self.nil = NIL  # "$-1" in RESP2, "_" in RESP3


class CommandHandler:
    """Runs one parsed command against the engine; shared by every server variant.

    ``execute`` returns ``(reply, close)``; it never raises for anything a client can
    send or the engine can fail with: those become ``-ERR`` replies.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._commands: dict[bytes, Callable[[list[bytes], Session], bytes]] = {
            b"GET": self._get,
            b"SET": self._set,
            b"DEL": self._del,
            b"EXISTS": self._exists,
            b"PING": self._ping,
            b"ECHO": self._echo,
            b"HELLO": self._hello,
            b"COMMAND": self._command,
            b"CONFIG": self._config,
            b"CLIENT": self._client,
        }

    def execute(self, args: list[bytes], session: Session) -> tuple[bytes, bool]:
        name = args[0]
        func = self._commands.get(name)  # clients send upper case: skip .upper() then
        if func is None:
            name = name.upper()
            func = self._commands.get(name)
        if func is None:
            if name == b"QUIT":
                return OK, True
            shown = args[0][:128].decode("utf-8", "replace")
            return encode_error(f"ERR unknown command '{shown}'"), False
        try:
            return func(args, session), False
        except Exception as exc:  # noqa: BLE001 - a failing engine call must not kill the link
            log.warning("%s failed: %s", name.decode(), exc)
            return encode_error(f"ERR {exc or type(exc).__name__}"), False

    def execute_pipeline(
        self, cmds: list[list[bytes]], session: Session, limit: int = FLUSH_AT
    ) -> tuple[list[bytes], bool, int]:
        """Replies to ``cmds`` in order, as ``execute`` gives them one by one, until QUIT or
        ``limit`` reply bytes: (replies, close, commands answered).

        For a pipeline read in one go (redis-benchmark -P): GETs are answered inline, and a
        run of plain SETs is written to the engine together when it can (``set_many``: one
        append for the run), which is what made pipelined SETs cost a syscall each.
        """
        out: list[bytes] = []
        size = 0
        i, n = 0, len(cmds)
        get = self.engine.get
        execute = CommandHandler.execute  # not an override: InstrumentedHandler counts after
        while i < n:
            cmd = cmds[i]
            name = cmd[0]
            if name == b"GET" and len(cmd) == 2:
                try:
                    value = get(cmd[1])
                except Exception:  # noqa: BLE001 - let execute word the error (reads are safe)
                    reply = execute(self, cmd, session)[0]
                else:
                    reply = session.nil if value is None else b"$%d\r\n%b\r\n" % (len(value), value)
            elif name == b"SET" and len(cmd) == 3 and i + 1 < n:
                j = i + 1
                while j < n and cmds[j][0] == b"SET" and len(cmds[j]) == 3:
                    j += 1
                if j - i > 1:
                    replies = self._sets(cmds[i:j], session)
                    out += replies
                    size += sum(map(len, replies))
                    i = j
                    if size >= limit:
                        break
                    continue
                reply = execute(self, cmd, session)[0]
            else:
                reply, close = execute(self, cmd, session)
                if close:
                    out.append(reply)
                    return out, True, i + 1
            out.append(reply)
            size += len(reply)
            i += 1
            if size >= limit:
                break
        return out, False, i

    def _sets(self, cmds: list[list[bytes]], session: Session) -> list[bytes]:
        """Replies to consecutive ``SET key value`` commands, written with one
        ``set_many`` when the engine has it (else one by one)."""
        set_many = getattr(self.engine, "set_many", None)
        if set_many is None:
            return [CommandHandler.execute(self, cmd, session)[0] for cmd in cmds]
        try:
            set_many([(cmd[1], cmd[2]) for cmd in cmds])
        except Exception as exc:  # noqa: BLE001 - none of them was written: say so to each
            log.warning("SET failed: %s", exc)
            return [encode_error(f"ERR {exc or type(exc).__name__}")] * len(cmds)
        return [OK] * len(cmds)

    @staticmethod
    def _arity(args: list[bytes]) -> bytes:
        return encode_error(
            f"ERR wrong number of arguments for '{args[0].decode('utf-8', 'replace').lower()}'"
            " command"
        )

    def _get(self, args: list[bytes], s: Session) -> bytes:
        if len(args) != 2:
            return self._arity(args)
        value = self.engine.get(args[1])
        if value is None:
            return s.nil
        return b"$%d\r\n%b\r\n" % (len(value), value)

    def _set(self, args: list[bytes], s: Session) -> bytes:
        if len(args) < 3:
            return self._arity(args)
        if len(args) > 3:
            # EX/PX/NX/XX/GET/KEEPTTL change what SET means; ignoring them would lie.
            opt = args[3].decode("utf-8", "replace")
            return encode_error(f"ERR syntax error: SET option '{opt}' is not supported")
        self.engine.set(args[1], args[2])
        return OK

    def _del(self, args: list[bytes], s: Session) -> bytes:
        if len(args) < 2:
            return self._arity(args)
        removed = 0
        for key in args[1:]:
            try:
                self.engine.remove(key)
            except KeyNotFound:
                continue
            removed += 1
        return b":%d\r\n" % removed

    def _exists(self, args: list[bytes], s: Session) -> bytes:
        if len(args) < 2:
            return self._arity(args)
        return encode_integer(sum(self.engine.get(key) is not None for key in args[1:]))

    def _ping(self, args: list[bytes], s: Session) -> bytes:
        if len(args) == 1:
            return PONG
        if len(args) == 2:
            return encode_bulk(args[1])
        return self._arity(args)

    def _echo(self, args: list[bytes], s: Session) -> bytes:
        # redis-cli --pipe ends its stream with ECHO <marker> to know every reply arrived.
        if len(args) != 2:
            return self._arity(args)
        return encode_bulk(args[1])

    def _hello(self, args: list[bytes], s: Session) -> bytes:
        # redis-py >= 8 opens every connection with HELLO 3 and gives up if it fails. Our
        # replies differ between RESP2 and RESP3 only in nulls and maps, so both are cheap.
        if len(args) >= 2:
            if args[1] not in (b"2", b"3"):
                return encode_error("NOPROTO unsupported protocol version")
            for opt in args[2::2]:
                if opt.upper() == b"AUTH":
                    return encode_error("ERR AUTH is not supported")
            s.resp = int(args[1])
            s.nil = NIL if s.resp == 2 else NULL3
        info = [
            (b"server", encode_bulk(b"kvs")),
            (b"version", encode_bulk(__version__.encode())),
            (b"proto", encode_integer(s.resp)),
            (b"id", encode_integer(s.id)),
            (b"mode", encode_bulk(b"standalone")),
            (b"role", encode_bulk(b"master")),
            (b"modules", EMPTY_ARRAY),
        ]
        return _map(s, info)

    def _command(self, args: list[bytes], s: Session) -> bytes:
        # redis-cli asks for COMMAND DOCS to draw hints; an empty answer just means none.
        return EMPTY_ARRAY

    def _config(self, args: list[bytes], s: Session) -> bytes:
        # redis-benchmark starts with CONFIG GET save / appendonly and warns unless it gets
        # a [name, value] pair; durability here is the engine's --fsync, not redis' settings.
        if len(args) == 3 and args[1].upper() == b"GET":
            name = args[2].lower()
            value = CONFIG_VALUES.get(name)
            return _map(s, [] if value is None else [(name, encode_bulk(value))])
        return encode_error("ERR CONFIG is not supported except CONFIG GET")

    def _client(self, args: list[bytes], s: Session) -> bytes:
        # redis-py >= 5 sends CLIENT SETINFO on connect; accepting it keeps its logs quiet.
        sub = args[1].upper() if len(args) >= 2 else b""
        if sub in (b"SETINFO", b"SETNAME"):
            return OK
        if sub == b"GETNAME":
            return s.nil
        if sub == b"ID":
            return encode_integer(s.id)
        return encode_error("ERR CLIENT is not supported except SETINFO, SETNAME, GETNAME, ID")


def _map(s: Session, pairs: list[tuple[bytes, bytes]]) -> bytes:
    """A RESP3 map, or the flat [k1, v1, k2, v2...] array RESP2 uses instead."""
    head = b"%%%d\r\n" % len(pairs) if s.resp == 3 else b"*%d\r\n" % (2 * len(pairs))
    return head + b"".join(encode_bulk(k) + v for k, v in pairs)


def run_commands(session: Session, handler: CommandHandler, out: list[bytes]) -> tuple[bool, int]:
    """Answer every complete buffered command into ``out``; stop early at FLUSH_AT bytes.

    Returns (close, pending_bytes).  A protocol error appends its ``-ERR`` and asks to close.
    """
    size = 0
    parser = session.parser
    try:
        while size < FLUSH_AT:
            cmd = parser.next_command()
            if cmd is None:
                break
            reply, close = handler.execute(cmd, session)
            out.append(reply)
            size += len(reply)
            if close:
                return True, size
    except ProtocolError as exc:
        out.append(protocol_error_reply(session, exc))
        return True, size
    return False, size


def protocol_error_reply(session: Session, exc: ProtocolError) -> bytes:
    """Log a broken stream and build the ``-ERR Protocol error: ...`` sent before closing."""
    log.info("connection %d: %s; closing it", session.id, exc)
    return encode_error(f"ERR {exc}")
