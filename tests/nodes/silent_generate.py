"""Never answers generate: every operation times out."""

from distlab import Node

node = Node()


@node.on("generate")
def generate(msg):
    return None


if __name__ == "__main__":
    node.run()
