"""unique-ids with an async handler: measures what an asyncio Task per request costs."""

from distlab import Node

node = Node()
counter = 0


@node.on("generate")
async def generate(msg):
    global counter
    counter += 1
    return {"type": "generate_ok", "id": f"{node.id}-{counter}"}


if __name__ == "__main__":
    node.run()
