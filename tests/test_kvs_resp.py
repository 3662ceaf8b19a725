"""RESP2 parser and encoders: framing, inline commands, limits, and arbitrary chunking."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distlab.systems.kvs.resp import (
    INCOMPLETE,
    CommandParser,
    ProtocolError,
    ReplyError,
    ReplyParser,
    encode_array,
    encode_bulk,
    encode_command,
    encode_error,
    encode_integer,
    encode_simple,
    split_inline,
)

pytestmark = pytest.mark.timeout(60)


def parse_all(data: bytes, **limits: int) -> list[list[bytes]]:
    p = CommandParser(**limits)
    p.feed(data)
    return list(p.commands())


def parse_chunked(data: bytes, cuts: list[int]) -> list[list[bytes]]:
    """Feed ``data`` split at ``cuts``, draining after every piece, like a socket would."""
    p = CommandParser()
    out: list[list[bytes]] = []
    prev = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        p.feed(data[prev:cut])
        out.extend(p.commands())
        prev = cut
    assert p.idle
    return out


def test_array_of_bulk_strings() -> None:
    assert parse_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n") == [[b"SET", b"k", b"hello"]]


def test_pipeline_answers_every_command_in_order() -> None:
    data = b"".join(encode_command("SET", f"k{i}", f"v{i}") for i in range(100))
    assert parse_all(data) == [[b"SET", f"k{i}".encode(), f"v{i}".encode()] for i in range(100)]


def test_binary_values_with_crlf_and_nul_survive() -> None:
    value = b"a\r\nb\x00\r\n*1\r\n$3\r\n"
    assert parse_all(encode_command("SET", "k", value) + encode_command("GET", "k")) == [
        [b"SET", b"k", value],
        [b"GET", b"k"],
    ]


def test_empty_bulk_string_and_empty_arrays() -> None:
    assert parse_all(b"*0\r\n*-1\r\n*2\r\n$3\r\nGET\r\n$0\r\n\r\n") == [[b"GET", b""]]


def test_inline_commands_like_redis() -> None:
    data = b"PING\r\nSET k \"a b\\x41\\n\"\r\n\r\nget 'it\\'s'\nEXISTS  a\tb\r\n"
    assert parse_all(data) == [
        [b"PING"],
        [b"SET", b"k", b"a bA\n"],
        [b"get", b"it's"],
        [b"EXISTS", b"a", b"b"],
    ]


def test_split_inline_rejects_unbalanced_quotes() -> None:
    assert split_inline(b'SET k "abc') is None
    assert split_inline(b'SET k "abc"def') is None
    assert split_inline(b"SET k 'abc") is None
    assert split_inline(b"") == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"*abc\r\n", "invalid multibulk length"),
        (b"*+1\r\n", "invalid multibulk length"),
        (b"*1\r\n:5\r\n", "expected '$', got ':'"),
        (b"*1\r\n+5", "expected '$', got '+'"),
        (b"*1\r\n$-1\r\n", "invalid bulk length"),
        (b"*1\r\n$x\r\n", "invalid bulk length"),
        (b"*1\r\n$3\r\nabcXY", "not terminated by CRLF"),
        (b'SET k "open\r\n', "unbalanced quotes"),
        (b"*2000000\r\n", "invalid multibulk length"),
    ],
)
def test_malformed_framing_raises_protocol_error(data: bytes, message: str) -> None:
    p = CommandParser()
    p.feed(data)
    with pytest.raises(ProtocolError, match="Protocol error") as info:
        p.next_command()
    assert message in str(info.value)
    with pytest.raises(ProtocolError):  # the stream stays failed: it cannot be re-synced
        p.next_command()


def test_oversized_bulk_rejected_on_its_header_before_the_body_arrives() -> None:
    p = CommandParser(max_bulk_len=1024)
    p.feed(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1025\r\n")
    with pytest.raises(ProtocolError, match="invalid bulk length"):
        p.next_command()
    assert (
        parse_all(encode_command("SET", "k", b"x" * 1024), max_bulk_len=1024)[0][2] == b"x" * 1024
    )
    # The fast path must apply the same limit as the slow one.
    with pytest.raises(ProtocolError, match="invalid bulk length"):
        parse_all(encode_command("SET", "k", b"x" * 1025), max_bulk_len=1024)


def test_default_limits_are_bounded() -> None:
    with pytest.raises(ProtocolError, match="invalid bulk length"):
        parse_all(b"*2\r\n$3\r\nGET\r\n$99999999999\r\n")
    with pytest.raises(ProtocolError, match="too big inline request"):
        parse_all(b"A" * (64 * 1024 + 1))
    with pytest.raises(ProtocolError, match="too big mbulk count string"):
        parse_all(b"*" + b"1" * (64 * 1024 + 1))
    with pytest.raises(ProtocolError, match="too big bulk count string"):
        parse_all(b"*1\r\n$" + b"1" * (64 * 1024 + 1))
    with pytest.raises(ProtocolError, match="invalid multibulk length"):
        parse_all(b"*3\r\n", max_array_len=2)


def test_half_sent_request_waits_then_completes() -> None:
    p = CommandParser()
    p.feed(b"*2\r\n$3\r\nGET\r\n$5\r\nhel")
    assert p.next_command() is None
    assert not p.idle
    p.feed(b"lo\r")
    assert p.next_command() is None
    p.feed(b"\n")
    assert p.next_command() == [b"GET", b"hello"]
    assert p.idle


def test_every_split_point_of_a_pipeline_gives_the_same_commands() -> None:
    data = (
        encode_command("SET", "k", b"v\r\nw")
        + b"PING\r\n"
        + encode_command("DEL", "a", "b", "c")
        + b'SET x "y z"\r\n'
        + encode_command("GET", "k")
    )
    whole = parse_all(data)
    assert len(whole) == 5
    for cut in range(len(data) + 1):
        assert parse_chunked(data, [cut]) == whole, cut
    assert parse_chunked(data, list(range(len(data)))) == whole  # one byte at a time


def test_big_bulk_in_many_small_chunks() -> None:
    value = bytes(range(256)) * 4096  # 1 MiB
    data = encode_command("SET", "big", value)
    cuts = list(range(0, len(data), 1000))
    assert parse_chunked(data, cuts) == [[b"SET", b"big", value]]
    # What follows a big value, fed on its own, must not wait for another big value.
    p = CommandParser()
    for cut in cuts:
        p.feed(data[cut : cut + 1000])
        assert p.next_command() in (None, [b"SET", b"big", value])
    p.feed(b"*1\r\n$4\r\nPING\r\n")
    assert p.next_command() == [b"PING"]
    p.feed(b"*1\r\n$4\r\nPING\r\n")
    p.feed(b"PING\r\n")
    assert list(p.commands()) == [[b"PING"], [b"PING"]]


args_st = st.lists(st.binary(max_size=40), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    cmds=st.lists(args_st, min_size=1, max_size=10),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=8),
)
def test_property_any_commands_any_chunking(cmds: list[list[bytes]], cuts: list[int]) -> None:
    data = b"".join(encode_command(*c) for c in cmds)
    assert parse_chunked(data, [c for c in cuts if c <= len(data)]) == cmds


@settings(max_examples=300, deadline=None, derandomize=True)
@given(garbage=st.binary(max_size=300), cut=st.integers(min_value=0, max_value=300))
def test_property_garbage_only_ever_raises_protocol_error(garbage: bytes, cut: int) -> None:
    p = CommandParser(max_bulk_len=1000, max_array_len=100, max_inline_len=200)
    try:
        for piece in (garbage[:cut], garbage[cut:]):
            p.feed(piece)
            for cmd in p.commands():
                assert isinstance(cmd, list)
                assert all(isinstance(a, bytes) for a in cmd)
    except ProtocolError as exc:
        assert str(exc).startswith("Protocol error: ")
        assert "\n" not in str(exc)


def test_encoders() -> None:
    assert encode_simple("OK") == b"+OK\r\n"
    assert encode_error("ERR bad\r\nthing") == b"-ERR bad  thing\r\n"
    assert encode_integer(-3) == b":-3\r\n"
    assert encode_bulk(None) == b"$-1\r\n"
    assert encode_bulk(b"a\r\n") == b"$3\r\na\r\n\r\n"
    assert encode_array([encode_bulk(b"x"), encode_integer(1)]) == b"*2\r\n$1\r\nx\r\n:1\r\n"
    assert encode_array(None) == b"*-1\r\n"
    assert encode_command("GET", b"k", 7) == b"*3\r\n$3\r\nGET\r\n$1\r\nk\r\n$1\r\n7\r\n"


def test_reply_parser_all_types_and_partial_input() -> None:
    data = b"+OK\r\n-ERR no\r\n:42\r\n$3\r\na\r\n\r\n$-1\r\n*2\r\n*1\r\n:1\r\n$0\r\n\r\n*-1\r\n"
    expected = ["OK", ReplyError("ERR no"), 42, b"a\r\n", None, [[1], b""], None]
    p = ReplyParser()
    got = []
    for byte in data:
        p.feed(bytes([byte]))
        reply = p.next_reply()
        if reply is not INCOMPLETE:
            got.append(reply)
    assert got == expected
    p.feed(b"?what\r\n")
    with pytest.raises(ProtocolError):
        p.next_reply()
