"""Echo that builds its reply and forgets to return it: no request is ever answered."""

from distlab import Node

node = Node()


@node.on("echo")
def echo(msg):
    reply = {"type": "echo_ok", "echo": msg.body["echo"]}  # noqa: F841  (the bug: no return)


if __name__ == "__main__":
    node.run()
