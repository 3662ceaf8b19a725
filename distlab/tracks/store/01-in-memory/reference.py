"""An in-memory key/value store: a dict behind the three operations."""

from __future__ import annotations


class KvStore:
    """String keys to string values, kept in memory (gone when the process exits)."""

    def __init__(self) -> None:
        self._map: dict[str, str] = {}

    def set(self, key: str, value: str) -> None:
        """Store `value` under `key`, replacing any earlier value."""
        self._map[key] = value

    def get(self, key: str) -> str | None:
        """The value stored under `key`, or None if there is none."""
        return self._map.get(key)

    def remove(self, key: str) -> None:
        """Forget `key` (nothing happens if it is not there)."""
        self._map.pop(key, None)
