"""Prints to stdout and sends malformed messages."""

from distlab import Node

node = Node()


@node.on("echo")
def echo(msg):
    print("debug: got", msg.body)
    try:
        node.send("n0", {"no-type": True})
    except Exception as exc:
        node.log("send refused:", exc)
    node.send("n99", {"type": "hello"})
    node.send(msg.src, {"type": "echo_ok", "echo": {1, 2}, "in_reply_to": msg.msg_id})
    return None


if __name__ == "__main__":
    node.run()
