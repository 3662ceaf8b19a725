"""The node SDK: one API for the simulator, a real process and Maelstrom."""

from distlab.node.core import Node, NodeNotReady
from distlab.node.helpers import Dedup, backoff_delays, retry
from distlab.node.storage import Storage, StorageError

__all__ = ["Dedup", "Node", "NodeNotReady", "Storage", "StorageError", "backoff_delays", "retry"]
