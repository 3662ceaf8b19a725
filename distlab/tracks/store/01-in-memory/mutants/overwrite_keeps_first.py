"""Mutant: set() keeps the first value of a key (setdefault instead of assignment)."""

from __future__ import annotations


class KvStore:
    """Stores a key once; later sets of the same key are ignored."""

    def __init__(self) -> None:
        self._map: dict[str, str] = {}

    def set(self, key: str, value: str) -> None:
        self._map.setdefault(key, value)

    def get(self, key: str) -> str | None:
        return self._map.get(key)

    def remove(self, key: str) -> None:
        self._map.pop(key, None)
