"""The wire protocol: codec, validation, error table, RPCError (see PROTOCOL.md)."""

from __future__ import annotations

import orjson
import pytest

from distlab.protocol import (
    ERRORS,
    MAX_LINE_BYTES,
    Message,
    ProtocolError,
    RPCError,
    decode,
    dumps,
    encode,
    error_name,
    is_definite,
    validate,
)

GOOD = {"src": "c1", "dest": "n1", "body": {"type": "echo", "msg_id": 5, "echo": "hi"}}


def line(obj: object) -> bytes:
    return orjson.dumps(obj) + b"\n"


def protocol_error(data: bytes | str) -> str:
    with pytest.raises(ProtocolError) as info:
        decode(data)
    text = str(info.value)
    assert "\n" not in text and "\r" not in text, f"message is not one line: {text!r}"
    return text


# ----- decode / encode -----------------------------------------------------------------


def test_decode_good_line() -> None:
    msg = decode(line(GOOD))
    assert msg == Message("c1", "n1", {"type": "echo", "msg_id": 5, "echo": "hi"}, None)
    assert msg.type == "echo"
    assert msg.msg_id == 5
    assert msg.in_reply_to is None


def test_decode_accepts_str_and_bytes_without_newline() -> None:
    assert decode(orjson.dumps(GOOD).decode()) == decode(orjson.dumps(GOOD))


def test_decode_keeps_harness_id_and_ignores_unknown_top_level_keys() -> None:
    msg = decode(line({**GOOD, "id": 42, "extra": [1, 2]}))
    assert msg.id == 42
    assert msg.to_dict() == {**GOOD, "id": 42}


def test_decode_reply_fields() -> None:
    msg = decode(line({"src": "n1", "dest": "c1", "body": {"type": "echo_ok", "in_reply_to": 5}}))
    assert msg.in_reply_to == 5
    assert msg.msg_id is None


def test_encode_is_one_newline_terminated_line() -> None:
    msg = Message("n1", "c1", {"type": "echo_ok", "in_reply_to": 5, "echo": "a\nb\r\nc"})
    out = encode(msg)
    assert out.endswith(b"\n")
    assert out.count(b"\n") == 1
    assert orjson.loads(out) == {"src": "n1", "dest": "c1", "body": msg.body}


def test_encode_includes_id_only_when_set() -> None:
    assert orjson.loads(encode(Message("a", "b", {"type": "t"}, 7)))["id"] == 7
    assert "id" not in orjson.loads(encode(Message("a", "b", {"type": "t"})))


def test_encode_decode_round_trip() -> None:
    msg = Message(
        "n0", "lin-kv", {"type": "cas", "msg_id": 3, "key": 1, "from": [1], "to": None}, 9
    )
    assert decode(encode(msg)) == msg
    assert decode(encode(msg.to_dict())) == msg


def test_encode_unserialisable_body_raises_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="not JSON-serialisable"):
        encode({"src": "a", "dest": "b", "body": {"type": "t", "v": object()}})
    with pytest.raises(ProtocolError, match="not JSON-serialisable"):
        encode({"src": "a", "dest": "b", "body": {"type": "t", "v": {1, 2}}})


def test_dumps_is_canonical() -> None:
    assert dumps({"b": 1, "a": {"d": 2, "c": 3}}) == b'{"a":{"c":3,"d":2},"b":1}'
    assert dumps({1: "x"}) == b'{"1":"x"}'


# ----- malformed input: clear one-line errors -----------------------------------------


def test_malformed_json() -> None:
    text = protocol_error(b'{"src": "c1", bad}\n')
    assert text.startswith("not JSON (")
    assert '{"src": "c1", bad}' in text


def test_empty_line_is_not_json() -> None:
    assert protocol_error(b"\n").startswith("not JSON")


def test_invalid_utf8_is_not_json() -> None:
    assert protocol_error(b'{"src": "\xff"}\n').startswith("not JSON")


def test_multiline_input_gives_one_line_error() -> None:
    text = protocol_error(b"[1,\n2]")
    assert text.startswith("message is a JSON array, not an object")
    text = protocol_error('{"src":\n"c1"}')
    assert text.startswith("message has no string 'dest'")


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b"[1, 2]", "array"),
        (b'"hi"', "string"),
        (b"3", "number"),
        (b"null", "null"),
        (b"true", "boolean"),
    ],
)
def test_non_object(raw: bytes, kind: str) -> None:
    assert protocol_error(raw) == f"message is a JSON {kind}, not an object: {raw.decode()}"


@pytest.mark.parametrize("key", ["src", "dest"])
def test_missing_or_bad_src_dest(key: str) -> None:
    missing = {k: v for k, v in GOOD.items() if k != key}
    assert protocol_error(line(missing)).startswith(f"message has no string '{key}': ")
    for bad in ("", 3, None, ["n1"]):
        assert protocol_error(line({**GOOD, key: bad})).startswith(f"message has no string '{key}'")


def test_missing_or_bad_body() -> None:
    no_body = {"src": "c1", "dest": "n1"}
    assert protocol_error(line(no_body)).startswith("message has no object 'body': ")
    assert protocol_error(line({**no_body, "body": "echo"})).startswith(
        "message has no object 'body'"
    )
    assert protocol_error(line({**no_body, "body": [1]})).startswith("message has no object 'body'")


def test_missing_or_bad_type() -> None:
    for body in ({"msg_id": 1}, {"type": ""}, {"type": 7}, {"type": None}):
        text = protocol_error(line({"src": "c1", "dest": "n1", "body": body}))
        assert text.startswith("message body has no string 'type': ")


@pytest.mark.parametrize("key", ["msg_id", "in_reply_to"])
@pytest.mark.parametrize("value", ["5", 1.5, True, [1]])
def test_non_int_msg_id(key: str, value: object) -> None:
    obj = {"src": "c1", "dest": "n1", "body": {"type": "x", key: value}}
    assert protocol_error(line(obj)).startswith(
        f"body field '{key}' is {value!r}, not an integer: "
    )


def test_null_msg_id_is_absent() -> None:
    msg = decode(line({"src": "c1", "dest": "n1", "body": {"type": "x", "msg_id": None}}))
    assert msg.msg_id is None


def test_error_quotes_long_line_cut_short() -> None:
    obj = {"src": "c1", "body": {"type": "x", "pad": "y" * 5000}}
    text = protocol_error(line(obj))
    assert text.startswith("message has no string 'dest': {")
    assert len(text) < 300
    assert f"({len(orjson.dumps(obj))} chars)" in text


def test_over_long_line() -> None:
    big = b'{"src":"c1","dest":"n1","body":{"type":"x","pad":"' + b"y" * MAX_LINE_BYTES + b'"}}\n'
    text = protocol_error(big)
    assert text == f"line of {len(big)} bytes exceeds the {MAX_LINE_BYTES}-byte limit"


def test_line_at_limit_is_accepted() -> None:
    head = b'{"src":"c1","dest":"n1","body":{"type":"x","pad":"'
    tail = b'"}}'
    raw = head + b"y" * (MAX_LINE_BYTES - len(head) - len(tail)) + tail
    assert len(raw) == MAX_LINE_BYTES
    assert len(decode(raw).body["pad"]) == MAX_LINE_BYTES - len(head) - len(tail)


def test_validate_returns_message_and_ignores_non_int_id() -> None:
    assert validate({**GOOD, "id": "seven"}).id is None
    with pytest.raises(ProtocolError, match="not an object"):
        validate([GOOD])


# ----- errors --------------------------------------------------------------------------

TABLE = {
    0: ("timeout", False),
    1: ("node-not-found", True),
    10: ("not-supported", True),
    11: ("temporarily-unavailable", True),
    12: ("malformed-request", True),
    13: ("crash", False),
    14: ("abort", True),
    20: ("key-does-not-exist", True),
    21: ("key-already-exists", True),
    22: ("precondition-failed", True),
    30: ("txn-conflict", True),
}


def test_error_table_matches_spec() -> None:
    assert {c: (e.name, e.definite) for c, e in ERRORS.items()} == TABLE
    for code, (name, definite) in TABLE.items():
        assert error_name(code) == name
        assert is_definite(code) is definite
        assert RPCError(code).definite is definite


@pytest.mark.parametrize("code", [1000, 1001, 5000, 10**9])
def test_custom_codes_are_indefinite(code: int) -> None:
    assert is_definite(code) is False
    assert error_name(code) == "custom"
    assert RPCError(code, "mine").definite is False


@pytest.mark.parametrize("code", [2, 15, 999])
def test_unknown_reserved_codes_are_indefinite(code: int) -> None:
    assert is_definite(code) is False
    assert error_name(code) == f"unknown-{code}"


def test_rpc_error_fields_and_text() -> None:
    err = RPCError(22, "expected 1, had 2")
    assert (err.code, err.text) == (22, "expected 1, had 2")
    assert str(err) == "error 22 (precondition-failed): expected 1, had 2"
    assert str(RPCError(0)) == "error 0 (timeout)"
    assert isinstance(err, Exception)


def test_rpc_error_to_body() -> None:
    assert RPCError(20, "no such key").to_body() == {
        "type": "error",
        "code": 20,
        "text": "no such key",
    }
    assert RPCError(11).to_body() == {"type": "error", "code": 11}


def test_rpc_error_from_body() -> None:
    err = RPCError.from_body({"type": "error", "in_reply_to": 3, "code": 30, "text": "conflict"})
    assert (err.code, err.text, err.definite) == (30, "conflict", True)
    no_text = RPCError.from_body({"type": "error", "code": 1001})
    assert (no_text.code, no_text.text, no_text.definite) == (1001, "", False)


@pytest.mark.parametrize("code", [None, "11", 1.5, True])
def test_rpc_error_from_body_without_int_code_is_crash(code: object) -> None:
    body = {"type": "error"} if code is None else {"type": "error", "code": code}
    err = RPCError.from_body(body)
    assert err.code == 13
    assert err.definite is False


def test_rpc_error_round_trip() -> None:
    err = RPCError.from_body(RPCError(14, "aborted").to_body())
    assert (err.code, err.text) == (14, "aborted")
