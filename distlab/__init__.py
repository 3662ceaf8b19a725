"""distlab: build distributed systems, then watch them fail under test."""

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
