"""Mistake: reap calls the callback with None but leaves the entry: the next reap calls it again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Callback = Callable[[dict[str, Any] | None], None]


class Pending:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.waiting: dict[int, tuple[float, Callback]] = {}  # msg_id -> (deadline, callback), oldest first

    def add(self, msg_id: int, callback: Callback, now: float) -> None:
        self.waiting[msg_id] = (now + self.timeout, callback)

    def deliver(self, reply: dict[str, Any], now: float) -> bool:
        entry = self.waiting.pop(reply.get("in_reply_to"), None)
        if entry is None:
            return False  # unknown, late or duplicated
        entry[1](reply)
        return True

    def reap(self, now: float) -> int:
        expired = []
        for msg_id, (deadline, _) in self.waiting.items():
            if deadline > now:
                break
            expired.append(msg_id)
        for msg_id in expired:
            _, callback = self.waiting[msg_id]
            callback(None)
        return len(expired)

    def __len__(self) -> int:
        return len(self.waiting)
