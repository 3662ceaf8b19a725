"""Byte encodings shared with TinyKV, so a store written here reads the same as TinyKV's.

Keys in the ``default`` and ``write`` column families are ``encode_bytes(user_key)`` followed by
the bitwise complement of a timestamp as a big-endian uint64. The memcomparable prefix keeps user
keys in ascending byte order even when one key is a prefix of another, and the complemented
timestamp makes the newest version of a key sort first, so "the latest version at or before ts"
is a single seek. Lock and write records are TinyKV's ``Lock.ToBytes`` / ``Write.ToBytes``.
"""

from __future__ import annotations

import struct

__all__ = [
    "TS_MAX",
    "CodecError",
    "decode_bytes",
    "decode_key",
    "decode_timestamp",
    "decode_user_key",
    "encode_bytes",
    "encode_key",
    "physical_time",
]

TS_MAX = (1 << 64) - 1
PHYSICAL_SHIFT_BITS = 18  # TSO layout: physical milliseconds << 18 | logical counter

_GROUP = 8
_MARKER = 0xFF
_U64 = struct.Struct(">Q")


class CodecError(ValueError):
    """Bytes that no encoder here could have produced."""


def encode_bytes(data: bytes) -> bytes:
    """Memcomparable encoding: 8-byte groups, each padded with zeros and followed by 0xFF - pad."""
    out = bytearray()
    for idx in range(0, len(data) + 1, _GROUP):
        chunk = data[idx : idx + _GROUP]
        pad = _GROUP - len(chunk)
        out += chunk
        out += bytes(pad)
        out.append(_MARKER - pad)
    return bytes(out)


def decode_bytes(encoded: bytes) -> tuple[bytes, bytes]:
    """Inverse of :func:`encode_bytes`; returns ``(user_bytes, leftover)``."""
    out = bytearray()
    pos = 0
    while True:
        group = encoded[pos : pos + _GROUP + 1]
        if len(group) < _GROUP + 1:
            raise CodecError(f"insufficient bytes to decode value: {len(encoded) - pos}")
        pad = _MARKER - group[_GROUP]
        if pad > _GROUP:
            raise CodecError(f"invalid marker byte in group {group!r}")
        real = _GROUP - pad
        if any(group[real:_GROUP]):
            raise CodecError(f"invalid padding byte in group {group!r}")
        out += group[:real]
        pos += _GROUP + 1
        if pad:
            return bytes(out), encoded[pos:]


def encode_key(user_key: bytes, ts: int) -> bytes:
    """A user key at a timestamp: newer timestamps sort first (TinyKV ``mvcc.EncodeKey``)."""
    if not 0 <= ts <= TS_MAX:
        raise CodecError(f"timestamp {ts} is not a uint64")
    return encode_bytes(user_key) + _U64.pack(ts ^ TS_MAX)


def decode_key(key: bytes) -> tuple[bytes, int]:
    """Split an encoded key into ``(user_key, ts)``."""
    user_key, rest = decode_bytes(key)
    if len(rest) != 8:
        raise CodecError(f"expected an 8-byte timestamp after the key, found {len(rest)} bytes")
    return user_key, _U64.unpack(rest)[0] ^ TS_MAX


def decode_user_key(key: bytes) -> bytes:
    """The user key of an encoded key (TinyKV ``mvcc.DecodeUserKey``)."""
    return decode_bytes(key)[0]


def decode_timestamp(key: bytes) -> int:
    """The timestamp of an encoded key."""
    return decode_key(key)[1]


def physical_time(ts: int) -> int:
    """Milliseconds part of a TSO timestamp; lock TTLs are measured in these."""
    return ts >> PHYSICAL_SHIFT_BITS
