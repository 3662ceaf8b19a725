"""crash's map and reduce without the crashes and stalls: the expected output of `crash`."""

from __future__ import annotations


def map_fn(filename: str, contents: str) -> list[tuple[str, str]]:
    return [("a", filename), ("b", str(len(filename))),
            ("c", str(len(contents.encode("utf-8", "surrogateescape")))), ("d", "xyzzy")]


def reduce_fn(key: str, values: list[str]) -> str:
    return " ".join(sorted(values))
