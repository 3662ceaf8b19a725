"""A table of RPC callbacks that cannot leak.

A node that sends a request keeps a callback for its reply. When the reply is lost,
or the peer is down, that callback waits forever: the waiting handler never finishes
and the table grows until the process runs out of memory. So every entry carries a
deadline, and `reap` (called from a periodic timer) tells every expired request
"no reply" (None) and drops it. An entry is removed *before* its callback runs, so
it is called exactly once: a late or duplicated reply finds nothing and is dropped.
Entries are kept in a dict in the order they were added, which is deadline order
(one timeout for all), so reap stops at the first entry still in time.
"""

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
            _, callback = self.waiting.pop(msg_id)
            callback(None)
        return len(expired)

    def __len__(self) -> int:
        return len(self.waiting)
