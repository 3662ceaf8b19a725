"""Mutant: get() of a missing key raises KeyError instead of returning None."""

from __future__ import annotations


class KvStore:
    """Indexes the dict directly."""

    def __init__(self) -> None:
        self._map: dict[str, str] = {}

    def set(self, key: str, value: str) -> None:
        self._map[key] = value

    def get(self, key: str) -> str | None:
        return self._map[key]

    def remove(self, key: str) -> None:
        self._map.pop(key, None)
