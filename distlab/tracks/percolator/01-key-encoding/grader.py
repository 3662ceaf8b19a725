"""Grades encode_bytes / encode_key / decode_key byte for byte against TinyKV's encoding,
and the order the encodings sort in (keys ascending, versions newest first)."""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distlab.systems.percolator.codec import encode_bytes, encode_key


def _kit() -> Any:
    spec = importlib.util.spec_from_file_location("_percolator_kit", Path(__file__).resolve().parent.parent / "kit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kit = _kit()
Wrong = kit.Wrong
TS_MAX = (1 << 64) - 1
CASES = [(b"k1", 100), (b"", 0), (b"", 7), (b"abcdefgh", 42), (b"abcdefghijklmnop", 1),
         (b"abcdefghi", TS_MAX), (b"\x00\xff\x00", 1 << 40), (bytes([3]), 0)]


def _fns(target: Any) -> dict[str, Callable[..., Any]]:
    space = getattr(target, "__globals__", {})
    fns = {"encode_key": target}
    for name in ("encode_bytes", "decode_key"):
        if not callable(space.get(name)):
            raise Wrong(f"solution.py defines no function {name}(); the grader calls it beside encode_key")
        fns[name] = space[name]
    return fns


def _same(what: str, got: Any, want: bytes) -> None:
    if not isinstance(got, bytes | bytearray):
        raise Wrong(f"{what} returned {got!r}; expected bytes")
    if bytes(got) != want:
        at = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), min(len(got), len(want)))
        raise Wrong(f"{what} returned {bytes(got).hex()}; expected {want.hex()} (they differ from byte {at})")


def bytes_groups(fns: dict[str, Callable[..., Any]], rng: random.Random) -> None:
    for data, _ in CASES:
        _same(f"encode_bytes({data!r})", kit.call(f"encode_bytes({data!r})", fns["encode_bytes"], data),
              encode_bytes(data))


def exact_keys(fns: dict[str, Callable[..., Any]], rng: random.Random) -> None:
    for key, ts in CASES:
        what = f"encode_key({key!r}, {ts})"
        _same(what, kit.call(what, fns["encode_key"], key, ts), encode_key(key, ts))


def round_trip(fns: dict[str, Callable[..., Any]], rng: random.Random) -> None:
    cases = CASES + [(rng.randbytes(rng.randrange(20)), rng.randrange(TS_MAX)) for _ in range(100)]
    for key, ts in cases:
        enc = encode_key(key, ts)
        what = f"decode_key(encode_key({key!r}, {ts}))"
        got = kit.call(what, fns["decode_key"], enc)
        if not isinstance(got, tuple) or len(got) != 2 or bytes(got[0]) != key or got[1] != ts:
            raise Wrong(f"{what} returned {got!r}; expected ({key!r}, {ts})")


def order(fns: dict[str, Callable[..., Any]], rng: random.Random) -> None:
    keys = [b"k", b"k1", b"k12", b"k2", b"k\x00", b"abcdefgh", b"abcdefgh\x00", b"abcdefg", b""]
    pairs = {(rng.choice(keys), rng.randrange(1, 1000)) for _ in range(400)}
    encoded = []
    for key, ts in pairs:
        what = f"encode_key({key!r}, {ts})"
        enc = kit.call(what, fns["encode_key"], key, ts)
        if not isinstance(enc, bytes | bytearray):
            raise Wrong(f"{what} returned {enc!r}; expected bytes")
        encoded.append((bytes(enc), key, ts))
    encoded.sort()
    for (_, ka, ta), (_, kb, tb) in zip(encoded, encoded[1:], strict=False):
        if ka == kb and ta < tb:
            raise Wrong(f"encode_key({ka!r}, {ta}) sorts before encode_key({kb!r}, {tb}): an older version "
                        f"comes first, but the newest version of a key must sort first")
        if ka != kb and kb < ka:
            raise Wrong(f"encode_key({kb!r}, {tb}) sorts after encode_key({ka!r}, {ta}), but key "
                        f"{kit.show(kb)} comes before {kit.show(ka)} in byte order")


SCENARIOS: dict[str, Callable[[dict[str, Callable[..., Any]], random.Random], None]] = {
    "versions sort newest first, keys in byte order": order,
    "encode_bytes byte for byte": bytes_groups,
    "encode_key byte for byte": exact_keys,
    "decode_key inverts encode_key": round_trip,
}


def scenarios() -> list[str]:
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    try:
        SCENARIOS[name](_fns(target), random.Random(seed))
    except Wrong as exc:
        return str(exc)
    return None
