"""unique-ids from what a process has of its own; the command-line argument picks the source.

Sound on a real cluster (and so they must pass in the simulator):
- `pid`:       process id + counter (each process has its own id)
- `uuid4`, `uuid1`, `secrets`, `urandom-file`: random ids (unique, and the same in a replay)
- `datetime`:  node id + datetime.now() + counter

Broken on a real cluster, where each process has its own copy of what they count in (so
every node hands out 0, 1, 2...), and so they must fail in the simulator too:
- `environ`:   a counter in os.environ
- `sdk-class`: a counter as a class attribute of distlab's Node
- `builtins`:  a counter in the builtins module
- `cwd-file`:  a counter in a file opened by a relative path (a folder per node as
               processes; refused in the simulator, where nodes share one)
"""

import builtins
import datetime
import os
import secrets
import sys
import uuid

from distlab import Node

HOW = sys.argv[1]
node = Node()
counter = 0


def shared_counter():
    if HOW == "environ":
        n = int(os.environ.get("IDS_COUNTER", "0"))
        os.environ["IDS_COUNTER"] = str(n + 1)
    elif HOW == "sdk-class":
        n = getattr(Node, "counter", 0)
        Node.counter = n + 1
    elif HOW == "builtins":
        n = getattr(builtins, "ids_counter", 0)
        builtins.ids_counter = n + 1
    else:  # cwd-file
        try:
            with open("counter.txt") as f:
                n = int(f.read())
        except FileNotFoundError:
            n = 0
        with open("counter.txt", "w") as f:
            f.write(str(n + 1))
    return n


@node.on("generate")
def generate(msg):
    global counter
    counter += 1
    if HOW == "pid":
        ident = f"{os.getpid()}-{counter}"
    elif HOW == "uuid4":
        ident = uuid.uuid4().hex
    elif HOW == "uuid1":
        ident = str(uuid.uuid1())
    elif HOW == "secrets":
        ident = secrets.token_hex(8)
    elif HOW == "urandom-file":
        with open("/dev/urandom", "rb") as f:
            ident = f.read(8).hex()
    elif HOW == "datetime":
        ident = f"{node.id}-{datetime.datetime.now().isoformat()}-{counter}"
    else:
        ident = shared_counter()
    return {"type": "generate_ok", "id": ident}


if __name__ == "__main__":
    node.run()
