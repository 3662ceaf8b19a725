"""Mistake: checks that the field is there but not its type: `"echo": 42` is answered as if it were fine."""

from distlab import Node, RPCError
from distlab.protocol import MALFORMED_REQUEST

node = Node()


@node.on("echo")
def echo(msg):
    if "echo" not in msg.body:
        raise RPCError(MALFORMED_REQUEST, "echo needs the field 'echo'")
    return {"type": "echo_ok", "echo": msg.body["echo"]}


if __name__ == "__main__":
    node.run()
