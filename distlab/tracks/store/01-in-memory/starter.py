"""Your in-memory key/value store. The grader calls KvStore() and then set/get/remove."""

from __future__ import annotations


class KvStore:
    """String keys to string values, kept in memory."""

    def __init__(self) -> None:
        pass  # TODO: somewhere to keep the pairs

    def set(self, key: str, value: str) -> None:
        """TODO: store `value` under `key`, replacing any earlier value."""

    def get(self, key: str) -> str | None:
        """TODO: the value stored under `key`, or None if there is none."""
        return None

    def remove(self, key: str) -> None:
        """TODO: forget `key` (nothing happens if it is not there)."""
