"""Echo that refuses malformed requests instead of crashing on them.

A handler that reads `msg.body["echo"]` blindly raises on a request without the
field, and the client gets error 13 (crash), which says "maybe it happened". A
request with bad fields is the client's mistake and certainly did nothing: error 12
(malformed-request) says so, and names the field. Unknown message types get error
10 (not-supported); the SDK sends that one itself.
"""

from distlab import Node, RPCError
from distlab.protocol import MALFORMED_REQUEST

node = Node()


@node.on("echo")
def echo(msg):
    if "echo" not in msg.body:
        raise RPCError(MALFORMED_REQUEST, "echo needs the field 'echo'")
    text = msg.body["echo"]
    if not isinstance(text, str):
        raise RPCError(MALFORMED_REQUEST, f"field 'echo' must be a string, not {type(text).__name__}")
    return {"type": "echo_ok", "echo": text}


if __name__ == "__main__":
    node.run()
