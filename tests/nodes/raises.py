"""Echo that crashes on every third request."""

from distlab import Node

node = Node()
seen = 0


@node.on("echo")
async def echo(msg):
    global seen
    seen += 1
    if seen % 3 == 0:
        raise ValueError(f"request {seen} is unlucky")
    return {"type": "echo_ok", "echo": msg.body["echo"]}


if __name__ == "__main__":
    node.run()
