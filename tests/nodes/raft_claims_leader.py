"""An echo node whose every replica claims, in its Raft trace, to lead term 1: the
runner's Raft safety check must turn the otherwise valid run invalid."""

from distlab import Node

node = Node()


@node.on("init")
def init(msg):
    node.log('raft {"ev":"leader","term":1,"last":0,"runs":[[0,0]]}')


@node.on("echo")
def echo(msg):
    return {"type": "echo_ok", "echo": msg.body["echo"]}


if __name__ == "__main__":
    node.run()
