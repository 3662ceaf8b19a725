"""distlab: build distributed systems, then watch them fail under test.

The SDK's names (Node, RPCError, ...) are imported when first used: the `distlab`
console script imports this package too, and its first process only re-executes itself
with hashing pinned, so it should not pay for asyncio and the SDK.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from distlab.node import Dedup, Node, Storage, backoff_delays, retry
    from distlab.protocol import Message, ProtocolError, RPCError

__version__ = "0.1.0"

__all__ = [
    "Dedup",
    "Message",
    "Node",
    "ProtocolError",
    "RPCError",
    "Storage",
    "__version__",
    "backoff_delays",
    "retry",
]

_HOMES = {
    "Dedup": "distlab.node",
    "Node": "distlab.node",
    "Storage": "distlab.node",
    "backoff_delays": "distlab.node",
    "retry": "distlab.node",
    "Message": "distlab.protocol",
    "ProtocolError": "distlab.protocol",
    "RPCError": "distlab.protocol",
}
"""Each exported name: the module it comes from."""


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'distlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # once: later uses are plain lookups
    return value
