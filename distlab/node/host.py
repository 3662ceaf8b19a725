"""What a runtime supplies to a node: the seam that keeps node code runtime-agnostic.

A node never touches a socket, clock or disk itself. The simulator and the
stdin/stdout loop each implement `Host`; `Node` only talks to its host.
"""

from __future__ import annotations

import contextvars
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from distlab.node.core import Node
    from distlab.node.storage import Storage


class Host(Protocol):
    random: random.Random

    def send(self, dest: str, body: dict[str, Any]) -> None:
        """Hand a message from this node to the network; may raise ProtocolError for a bad one."""

    def now(self) -> float:
        """Seconds on this node's clock (skewed in the simulator)."""

    def log(self, text: str) -> None:
        """Append one line to the node's log (stderr for a real process)."""

    @property
    def storage(self) -> Storage:
        """This node's durable storage."""


# Set by a runtime while it loads a node's code, so `Node()` created at import
# time is adopted by that runtime instead of waiting for `run()`.
ADOPT: contextvars.ContextVar[Callable[[Node], None] | None] = contextvars.ContextVar(
    "distlab_adopt", default=None
)
