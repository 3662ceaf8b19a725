"""Mutant: remove() sets the value to an empty string instead of forgetting the key."""

from __future__ import annotations


class KvStore:
    """A removed key still answers, with an empty value."""

    def __init__(self) -> None:
        self._map: dict[str, str] = {}

    def set(self, key: str, value: str) -> None:
        self._map[key] = value

    def get(self, key: str) -> str | None:
        return self._map.get(key)

    def remove(self, key: str) -> None:
        self._map[key] = ""
