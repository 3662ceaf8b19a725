"""Spins forever without yielding once the first request arrives."""

from distlab import Node

node = Node()


@node.on("echo")
def echo(msg):
    while True:
        pass


if __name__ == "__main__":
    node.run()
