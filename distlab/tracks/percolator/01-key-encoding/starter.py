"""Memcomparable keys with descending timestamps (TinyKV's mvcc.EncodeKey)."""

from __future__ import annotations

import struct

TS_MAX = (1 << 64) - 1


def encode_bytes(data: bytes) -> bytes:
    """8-byte groups, zero padded, each followed by the marker 0xFF - padding."""
    return bytes(data)  # TODO


def encode_key(key: bytes, ts: int) -> bytes:
    """encode_bytes(key) then the complemented timestamp, big-endian."""
    return encode_bytes(key) + struct.pack(">Q", ts)  # TODO: newest first


def decode_key(encoded: bytes) -> tuple[bytes, int]:
    """(key, ts) back from encode_key's bytes."""
    raise NotImplementedError
