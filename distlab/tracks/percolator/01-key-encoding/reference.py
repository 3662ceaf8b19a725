"""Memcomparable keys with descending timestamps (TinyKV's mvcc.EncodeKey)."""

from __future__ import annotations

import struct

TS_MAX = (1 << 64) - 1
GROUP = 8


def encode_bytes(data: bytes) -> bytes:
    """8-byte groups, zero padded, each followed by the marker 0xFF - padding."""
    out = bytearray()
    for i in range(0, len(data) + 1, GROUP):
        chunk = data[i : i + GROUP]
        pad = GROUP - len(chunk)
        out += chunk + bytes(pad)
        out.append(0xFF - pad)
    return bytes(out)


def encode_key(key: bytes, ts: int) -> bytes:
    """encode_bytes(key) then the complemented timestamp, big-endian: newest sorts first."""
    return encode_bytes(key) + struct.pack(">Q", ts ^ TS_MAX)


def decode_key(encoded: bytes) -> tuple[bytes, int]:
    """(key, ts) back from encode_key's bytes."""
    key = bytearray()
    pos = 0
    while True:
        group = encoded[pos : pos + GROUP + 1]
        if len(group) < GROUP + 1:
            raise ValueError("truncated key")
        pad = 0xFF - group[GROUP]
        key += group[: GROUP - pad]
        pos += GROUP + 1
        if pad:
            break
    (ts,) = struct.unpack(">Q", encoded[pos : pos + 8])
    return bytes(key), ts ^ TS_MAX
