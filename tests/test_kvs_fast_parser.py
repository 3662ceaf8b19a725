"""The hiredis-backed request parser must behave exactly as the pure-Python one.

hiredis reads replies and is laxer than redis about requests, so FastCommandParser keeps
its output only when it re-encodes to the very bytes received; these tests drive both
parsers with the same bytes, chunked the same way, through feed/next_command and take,
and compare every command and every error message. Inputs include requests hiredis
accepts and redis does not (simple strings, integers, a bulk string without its CRLF,
leading zeros), so a parser trusting hiredis blindly fails here.
"""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distlab.systems.kvs.resp import (
    HIREDIS,
    CommandParser,
    FastCommandParser,
    ProtocolError,
    encode_command,
    make_command_parser,
)

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(not HIREDIS, reason="hiredis is not installed"),
]

LIMITS = {"max_bulk_len": 1000, "max_array_len": 100, "max_inline_len": 200}


def run(parser: CommandParser, pieces: list[bytes], use_take: bool) -> list[object]:
    """Everything a server would see: commands in order, then the error that ends it."""
    seen: list[object] = []
    try:
        for piece in pieces:
            if not piece:
                continue
            if use_take:
                cmds = parser.take(piece)
                if cmds is not None:
                    seen.extend(cmds)
                    continue
            else:
                parser.feed(piece)
            seen.extend(parser.commands())
    except ProtocolError as exc:
        seen.append(f"error: {exc}")
    seen.append(("idle", parser.idle))
    return seen


def agree(data: bytes, cuts: list[int], **limits: int) -> list[object]:
    cuts = sorted({c for c in cuts if 0 < c < len(data)})
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    want = run(CommandParser(**limits), pieces, use_take=False)
    for use_take in (False, True):
        assert run(FastCommandParser(**limits), pieces, use_take) == want, (data, cuts, use_take)
    return want


LAX = [
    b"*1\r\n+PING\r\n",  # simple string element
    b"*2\r\n$3\r\nGET\r\n:5\r\n",  # integer element
    b"*1\r\n$4\r\nPINGX\n",  # bulk string not ended by CRLF (hiredis does not check)
    b"*1\r\n$04\r\nPING\r\n",  # leading zero (redis takes it, hiredis does not)
    b"*01\r\n$4\r\nPING\r\n",
    b"*2\r\n+abcdefghij\r\n=8\r\ntxt:abcd\r\n",  # same length as two canonical bulks
    b"*1\r\n(123\r\n",
    b"*1\r\n_\r\n",
    b"*2\r\n$3\r\nGET\r\n$-1\r\n",
    b"*1\r\n*1\r\n$1\r\na\r\n",  # nested array
    b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n",
    b"*1\r\n$4\r\nPING\r\nPING\r\n*1\r\n$4\r\nPING\r\n",  # inline in the middle of a pipeline
    b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1001\r\n",  # over max_bulk_len, body not sent
    b"*101\r\n",  # over max_array_len
    b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$1\r\n",  # a whole request, then a partial one
    # pipelines of one arity (checked by the 2- and 3-argument formats) with one odd request
    b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n:1\r\n",
    b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n+ab\r\n",
    b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n+ab\r\n",
    b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nbX\n",
    b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n",
    # whole requests longer than the chunk size below which limits need no check
    encode_command("SET", "k", b"x" * 900),
    encode_command("SET", "k", b"x" * 1001),  # over max_bulk_len, sent whole
    encode_command("DEL", *[b"k"] * 101),  # over max_array_len, sent whole
    encode_command("GET", "a") + encode_command("SET", "k", b"x" * 1001),
]


@pytest.mark.parametrize("data", LAX)
def test_requests_hiredis_reads_differently_get_the_python_answer(data: bytes) -> None:
    for cut in range(len(data) + 1):
        agree(data, [cut], **LIMITS)


def test_lax_requests_are_refused_as_redis_refuses_them() -> None:
    assert agree(b"*1\r\n+PING\r\n", [])[0] == "error: Protocol error: expected '$', got '+'"
    assert agree(b"*1\r\n$4\r\nPINGX\n", [])[0] == (
        "error: Protocol error: bulk string not terminated by CRLF"
    )
    assert agree(b"*1\r\n$04\r\nPING\r\n", [])[0] == [b"PING"]


def test_take_returns_whole_requests_and_queues_the_rest() -> None:
    p = FastCommandParser()
    assert p.take(encode_command("GET", "k")) == [[b"GET", b"k"]]
    assert p.idle
    two = encode_command("GET", "a") + encode_command("GET", "b")
    assert p.take(two) == [[b"GET", b"a"], [b"GET", b"b"]]
    assert p.take(two + b"*1\r\n") is None  # whole requests, then part of one: queued
    assert p.next_command() == [b"GET", b"a"]
    assert p.take(b"$4\r\nPING\r\n") is None  # GET b is queued: this waits behind it
    assert list(p.commands()) == [[b"GET", b"b"], [b"PING"]]
    assert p.take(b"*1\r\n") is None
    assert p.take(b"$4\r\nPING\r\n") == [[b"PING"]]  # the Python parser completes it
    big = encode_command("SET", "k", b"x" * 5000)
    assert p.take(big[:100]) is None  # partial: the Python parser holds it
    assert p.take(big[100:]) == [[b"SET", b"k", b"x" * 5000]]
    assert p.take(encode_command("PING")) == [[b"PING"]]  # and hiredis takes over again


def test_make_command_parser_picks_hiredis() -> None:
    assert type(make_command_parser()) is FastCommandParser


args_st = st.lists(st.binary(max_size=40), min_size=1, max_size=6)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    cmds=st.lists(args_st, min_size=1, max_size=10),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=6),
)
def test_property_any_commands_any_chunking(cmds: list[list[bytes]], cuts: list[int]) -> None:
    data = b"".join(encode_command(*c) for c in cmds)
    assert agree(data, cuts)[:-1] == cmds


@settings(max_examples=600, deadline=None, derandomize=True)
@given(
    cmds=st.lists(args_st, min_size=1, max_size=4),
    edits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=400), st.sampled_from(b"*$+-:=(_0\r\nX")),
        min_size=1,
        max_size=3,
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=3),
)
def test_property_damaged_requests(
    cmds: list[list[bytes]], edits: list[tuple[int, int]], cuts: list[int]
) -> None:
    data = bytearray(b"".join(encode_command(*c) for c in cmds))
    for pos, byte in edits:
        data[pos % len(data)] = byte
    agree(bytes(data), cuts, **LIMITS)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(garbage=st.binary(max_size=300), cut=st.integers(min_value=0, max_value=300))
def test_property_garbage(garbage: bytes, cut: int) -> None:
    agree(b"*" + garbage, [cut], **LIMITS)


def test_server_runs_on_uvloop_when_installed() -> None:
    uvloop = pytest.importorskip("uvloop")
    from distlab.systems.kvs.aio_server import new_event_loop

    loop = new_event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
        assert loop.run_until_complete(asyncio.sleep(0, "ok")) == "ok"
    finally:
        loop.close()


async def _exchange(store_dir: str, fsync: str, steps: list[tuple[bytes, int]]) -> bytes:
    """Send each payload in one write to an in-process AsyncServer and read the number of
    bytes given (-1: half-close, then read to the end); everything read."""
    from distlab.systems.kvs.aio_server import AsyncServer
    from distlab.systems.kvs.engines import open_engine

    store = open_engine(store_dir, "kvs", fsync=fsync)
    server = AsyncServer(store, port=0)
    got = b""
    try:
        host, port = await server.start()
        reader, writer = await asyncio.open_connection(host, port)
        for payload, size in steps:
            writer.write(payload)
            if size < 0:
                writer.write_eof()
                got += await asyncio.wait_for(reader.read(-1), 30)
            else:
                got += await asyncio.wait_for(reader.readexactly(size), 30)
        writer.close()
        return got
    finally:
        await server.stop()
        store.close()


@pytest.mark.parametrize("fsync", ["never", "always"])
def test_pipeline_in_one_read_answered_in_order_up_to_quit(tmp_path, fsync: str) -> None:  # noqa: ANN001
    from distlab.systems.kvs.aio_server import new_event_loop

    big = b"v" * 600_000  # four replies cross FLUSH_AT (1 MiB)
    pipeline = (
        encode_command("SET", "a", "1")
        + encode_command("GET", "a")
        + encode_command("GET", "big") * 4
        + encode_command("QUIT")
        + encode_command("GET", "a")  # after QUIT: never answered
    )
    want = b"+OK\r\n$1\r\n1\r\n" + (b"$600000\r\n" + big + b"\r\n") * 4 + b"+OK\r\n"
    loop = new_event_loop()
    try:
        got = loop.run_until_complete(
            _exchange(
                str(tmp_path / "d"),
                fsync,
                [(encode_command("SET", "big", big), 5), (pipeline, -1)],
            )
        )
    finally:
        loop.close()
    assert got == b"+OK\r\n" + want
    small = encode_command("SET", "b", "2") + encode_command("QUIT") + encode_command("GET", "b")
    loop = new_event_loop()
    try:
        got = loop.run_until_complete(_exchange(str(tmp_path / "d"), fsync, [(small, -1)]))
    finally:
        loop.close()
    assert got == b"+OK\r\n+OK\r\n"


def test_set_many_equals_sets_in_order_and_fails_whole(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from distlab.systems.kvs import store as store_module
    from distlab.systems.kvs.engines import KvsError
    from distlab.systems.kvs.store import KvStore

    pairs = [(b"a", b"1"), (b"b", b"2"), (b"a", b"3"), (b"c", b"")]
    one = KvStore.open(tmp_path / "one", fsync="never")
    many = KvStore.open(tmp_path / "many", fsync="never")
    for k, v in pairs:
        one.set(k, v)
    many.set_many(pairs)
    for store in (one, many):
        assert {k: store.get(k) for k in (b"a", b"b", b"c")} == {b"a": b"3", b"b": b"2", b"c": b""}
    assert many.stats() == one.stats()
    assert many.bytes_written == one.bytes_written
    assert (tmp_path / "many").joinpath("0000000001.log").read_bytes() == (
        (tmp_path / "one").joinpath("0000000001.log").read_bytes()
    )

    def no_space(fd: int, data: bytes, offset: int) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_module, "_pwrite", no_space)
    with pytest.raises(KvsError, match="No space left"):
        many.set_many([(b"a", b"new"), (b"d", b"4")])
    monkeypatch.undo()
    assert many.get(b"a") == b"3" and many.get(b"d") is None  # none of them happened
    one.close()
    many.close()
    reopened = KvStore.open(tmp_path / "many", fsync="never")
    assert reopened.get(b"a") == b"3" and reopened.get(b"c") == b"" and reopened.get(b"d") is None
    reopened.close()


@pytest.mark.parametrize("engine", ["kvs", "sqlite"])
def test_pipelined_sets_are_batched_and_counted(tmp_path, monkeypatch, engine: str) -> None:  # noqa: ANN001
    from prometheus_client.parser import text_string_to_metric_families

    from distlab.systems.kvs.aio_server import AsyncServer, _RespProtocol
    from distlab.systems.kvs.engines import open_engine
    from distlab.systems.kvs.metrics import KvsMetrics

    class Transport:
        def __init__(self) -> None:
            self.sent = b""

        def write(self, data: bytes) -> None:
            self.sent += data

    from distlab.systems.kvs import store as store_module

    store = open_engine(tmp_path / "d", engine, fsync="never")
    metrics = KvsMetrics(store)
    writes: list[int] = []
    real_pwrite = store_module._pwrite

    def pwrite(fd: int, data: bytes, offset: int) -> int:
        writes.append(len(data))
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(store_module, "_pwrite", pwrite)

    async def go() -> bytes:
        server = AsyncServer(store)
        server.handler = metrics.handler(store)
        conn = _RespProtocol(server)
        transport = Transport()
        conn.connection_made(transport)  # type: ignore[arg-type]
        conn.data_received(
            encode_command("SET", "a", "1")
            + encode_command("SET", "b", "2")
            + encode_command("GET", "a")
            + encode_command("SET", "a", "3")
            + encode_command("SET", "c", "4")
            + encode_command("SET", "d", "5")
            + encode_command("GET", "a")
        )
        await asyncio.sleep(0)  # replies leave at the end of the loop turn
        return transport.sent

    sent = asyncio.run(go())
    assert sent == b"+OK\r\n+OK\r\n$1\r\n1\r\n+OK\r\n+OK\r\n+OK\r\n$1\r\n3\r\n"
    assert store.get(b"d") == b"5"
    counts = {
        (s.name, s.labels.get("command")): s.value
        for fam in text_string_to_metric_families(metrics.exposition().decode())
        for s in fam.samples
    }
    assert counts[("kvs_requests_total", "set")] == 5
    assert counts[("kvs_requests_total", "get")] == 2
    assert counts[("kvs_request_duration_seconds_count", "set")] == 5
    if engine == "kvs":
        assert len(writes) == 2  # SET a, SET b; then SET a, SET c, SET d
    store.close()
