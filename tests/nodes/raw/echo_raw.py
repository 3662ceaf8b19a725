"""A Maelstrom echo node written against the raw protocol (no distlab import).

Behaviours for the harness's robustness tests, chosen by command-line words:
  garbage       also print a non-JSON line for every request
  exit          exit with status 3 on the first echo
  ignore-term   ignore SIGTERM
  fork          start a long-lived child process at init
  huge          write one 2 MB line at init
  flood         after init, send messages to n0 as fast as possible
  nowhere       also send a request to a node that does not exist, and log the reply
  hog           allocate memory until it fails (at init)
  chatter       write stderr lines in pieces at init, and unfinished last words on exit
"""

import json
import signal
import subprocess
import sys

modes = set(sys.argv[1:])
if "ignore-term" in modes:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
node_id = None
next_id = 0


def send(dest, body):
    sys.stdout.write(json.dumps({"src": node_id, "dest": dest, "body": body}) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    msg = json.loads(line)
    body = msg["body"]
    if body["type"] == "init":
        node_id = body["node_id"]
        send(msg["src"], {"type": "init_ok", "in_reply_to": body["msg_id"]})
        if "chatter" in modes:
            for piece in ("par", "tial line\nsecond ", "line\n"):
                sys.stderr.write(piece)
                sys.stderr.flush()
        if "fork" in modes:
            subprocess.Popen(["sleep", "1000"])
        if "huge" in modes:
            sys.stdout.write("x" * (2 << 20) + "\n")
            sys.stdout.flush()
        if "hog" in modes:
            hoard = []
            while True:
                hoard.append(bytearray(64 << 20))
        if "flood" in modes:
            while True:
                send("n0", {"type": "spam"})
    elif body["type"] == "error":
        print(f"got error {body['code']}: {body.get('text')}", file=sys.stderr, flush=True)
    elif body["type"] == "echo":
        if "exit" in modes:
            if "chatter" in modes:
                sys.stderr.write("last words")
                sys.stderr.flush()
            sys.exit(3)
        if "nowhere" in modes:
            send("n99", {"type": "hello", "msg_id": 1})
        if "garbage" in modes:
            print("this is not json", flush=True)
        send(msg["src"], {"type": "echo_ok", "echo": body["echo"], "in_reply_to": body["msg_id"]})
