"""Opens a socket at import time: forbidden in the simulator."""

import socket

from distlab import Node

node = Node()
conn = socket.create_connection(("127.0.0.1", 9))

if __name__ == "__main__":
    node.run()
