"""Memcomparable keys with descending timestamps (TinyKV's mvcc.EncodeKey)."""

from __future__ import annotations

import struct

TS_MAX = (1 << 64) - 1
GROUP = 8


def encode_bytes(data: bytes) -> bytes:
    """8-byte groups, zero padded, each followed by the marker 0xFF - padding."""
    return bytes(data)


def encode_key(key: bytes, ts: int) -> bytes:
    """encode_bytes(key) then the complemented timestamp, big-endian: newest sorts first."""
    return encode_bytes(key) + struct.pack(">Q", ts ^ TS_MAX)


def decode_key(encoded: bytes) -> tuple[bytes, int]:
    """(key, ts) back from encode_key's bytes."""
    (ts,) = struct.unpack(">Q", encoded[-8:])
    return bytes(encoded[:-8]), ts ^ TS_MAX
