"""A demanding learner's mistakes, through the real `distlab` command: each ends in one
line that names the cause in the learner's terms (with the seed and a command to rerun
it where a run was made), the right exit status (1 failed, 2 nothing could run), no
traceback, and never a pass for a broken node. Catalogue: copies of a few tasks
(DISTLAB_TRACKS), progress in tmp_path; every run's seed is the task's own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from distlab.tracks.catalogue import ROOT

ECHO = ROOT / "messenger" / "01-echo"
IN_MEMORY = ROOT / "store" / "01-in-memory"
ELECTION = ROOT / "raft" / "01-2a-election"
KV_PROXY = ROOT / "messenger" / "02-kv-proxy"
KV_BASIC = ROOT / "kvraft" / "01-basic"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """messenger/echo as it ships; store/in-memory and raft/2a-election with a 3 s
    scenario limit (so a loop is caught in seconds, not the default minute)."""
    tracks = tmp_path / "tracks"
    for track, task in (("messenger", ECHO), ("messenger", KV_PROXY), ("store", IN_MEMORY), ("raft", ELECTION),
                        ("kvraft", KV_BASIC)):
        (tracks / track).mkdir(parents=True, exist_ok=True)
        (tracks / track / "track.toml").write_bytes((ROOT / track / "track.toml").read_bytes())
        shutil.copytree(task, tracks / track / task.name, ignore=shutil.ignore_patterns("__pycache__"))
    toml = tracks / "store" / IN_MEMORY.name / "task.toml"
    toml.write_text(toml.read_text().replace("[[mutant]]", "[grader]\ntimeout = 3\n\n[[mutant]]", 1))
    toml = tracks / "raft" / ELECTION.name / "task.toml"
    toml.write_text(toml.read_text().replace("[grader]\n", "[grader]\ntimeout = 3\n", 1))
    return dict(os.environ, DISTLAB_HOME=str(tmp_path / "home"), DISTLAB_TRACKS=str(tracks), COLUMNS="400")


def distlab(env: dict[str, str], cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "distlab", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc


def node(tmp_path: Path, name: str, handler_body: str, header: str = "") -> str:
    """An SDK echo node whose handler is `handler_body` (the learner's mistake)."""
    path = tmp_path / name
    path.write_text(f"from distlab import Node\n{header}\nnode = Node()\n\n\n@node.on(\"echo\")\n"
                    f"async def echo(msg):\n{textwrap.indent(textwrap.dedent(handler_body), '    ')}\n\n"
                    "if __name__ == \"__main__\":\n    node.run()\n")
    return str(path)


def fail_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("FAIL")]


# --- names a learner mistypes ---------------------------------------------------------

@pytest.mark.parametrize(("args", "said"), [
    (("start", "mesenger/echo"), "no track or task 'mesenger/echo'; did you mean messenger/echo?"),
    (("start", "messenger/ech"), "did you mean messenger/echo?"),
    (("tracks", "mesenger"), "no track 'mesenger'; did you mean messenger?"),
    (("check", "messenger/ech"), "no task 'messenger/ech'; did you mean messenger/echo?"),
    (("hint", "messenger/ehco"), "did you mean messenger/echo?"),
    (("check", "messenger"), "messenger is a track; name one of its tasks, e.g. distlab check messenger/echo"),
    (("check", "--verbose"), "no option --verbose (see `distlab check --help`); arguments for your node go after"),
])
def test_a_mistyped_name_gets_a_suggestion(env: dict[str, str], tmp_path: Path, args: tuple[str, ...],
                                           said: str) -> None:
    r = distlab(env, tmp_path, *args)
    assert r.returncode == 2
    assert said in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_a_file_given_as_a_task_says_use_bin(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "node.py").write_text("")
    r = distlab(env, tmp_path, "check", "node.py")
    assert r.returncode == 2
    assert "node.py is a file, not a task id: grade it with distlab check --bin node.py" in r.stderr


@pytest.mark.parametrize(("marker", "said"), [
    ("", "this workspace's marker .distlab-task names no task; give a task id"),
    ("messenger/ech\n", "names 'messenger/ech', which is no task; give a task id (`distlab check TRACK/TASK`) or "
                        "run `distlab start TRACK/TASK` here again (did you mean messenger/echo?)"),
    ("\udcff\udcfe", "names '\ufffd\ufffd', which is no task"),  # not UTF-8: was "unexpected: UnicodeDecodeError"
])
def test_a_broken_workspace_marker_is_named(env: dict[str, str], tmp_path: Path, marker: str, said: str) -> None:
    assert distlab(env, tmp_path, "start", "messenger/echo", "ws").returncode == 0
    (tmp_path / "ws" / ".distlab-task").write_bytes(marker.encode("utf-8", "surrogateescape"))
    for command in ("check", "hint"):
        r = distlab(env, tmp_path / "ws", command)
        assert r.returncode == 2 and said in r.stderr, r.stderr


def test_an_empty_or_missing_node_file_is_named(env: dict[str, str], tmp_path: Path) -> None:
    assert distlab(env, tmp_path, "start", "messenger/echo", "ws").returncode == 0
    ws = tmp_path / "ws"
    (ws / "node.py").write_text("")
    r = distlab(env, ws, "check")
    assert r.returncode == 2 and "node.py is empty: write your node there" in r.stderr
    (ws / "node.py").unlink()
    (ws / "node.py").mkdir()
    r = distlab(env, ws, "check")
    assert r.returncode == 2 and "node.py: a folder, not a file" in r.stderr


# --- nodes that break the protocol or stop answering -----------------------------------

def test_a_reply_of_the_wrong_type_never_passes(env: dict[str, str], tmp_path: Path) -> None:
    """`echo` answered with type `echo` (not `echo_ok`): Maelstrom's client rejects it;
    it used to count as a success and pass."""
    bin_ = node(tmp_path, "wrong_type.py", 'return {"type": "echo", "echo": msg.body["echo"]}')
    r = distlab(env, tmp_path, "check", "messenger/echo", "--bin", bin_)
    assert r.returncode == 1, r.stdout
    first = fail_lines(r.stdout)[0]
    assert first.startswith("FAIL  one node  (seed 1): ")
    assert "reply of type 'echo': a reply's type is the request's type + '_ok'" in first


def test_a_handler_that_raises_sometimes_fails_the_check(env: dict[str, str], tmp_path: Path) -> None:
    """A valid history is not enough: a handler that raised (error 13) is a broken node,
    as verify already holds references to."""
    bin_ = node(tmp_path, "flaky.py", """\
        if msg.body["echo"].endswith("7"):
            raise ValueError("unlucky number")
        return {"type": "echo_ok", "echo": msg.body["echo"]}""")
    r = distlab(env, tmp_path, "check", "messenger/echo", "--bin", bin_)
    assert r.returncode == 1, r.stdout
    assert any("node error: n0: handler 'echo' raised ValueError: unlucky number" in line
               and "flaky.py" in line for line in fail_lines(r.stdout)), r.stdout
    assert "replay: distlab replay " in r.stdout


@pytest.mark.parametrize(("raised", "fails"), [("RPCError(0, 'timed out')", False), ("ZeroDivisionError()", True)])
def test_a_periodic_job_may_time_out_but_not_crash(env: dict[str, str], tmp_path: Path, raised: str,
                                                    fails: bool) -> None:
    """A gossip round whose call timed out ends that round (the next retries): not a
    broken node. Any other exception in it is."""
    path = tmp_path / "periodic.py"
    path.write_text(textwrap.dedent(f"""\
        from distlab import Node, RPCError

        node = Node()


        @node.on("echo")
        async def echo(msg):
            return {{"type": "echo_ok", "echo": msg.body["echo"]}}


        def gossip():
            raise {raised}


        node.every(0.5, gossip)

        if __name__ == "__main__":
            node.run()
        """))
    r = distlab(env, tmp_path, "check", "messenger/echo", "--bin", str(path))
    assert r.returncode == (1 if fails else 0), r.stdout
    if fails:
        assert "node error: n0: periodic 'gossip' raised ZeroDivisionError" in fail_lines(r.stdout)[0]


def test_a_node_that_stops_answering_fails_without_faults(env: dict[str, str], tmp_path: Path) -> None:
    """After its first reply the node awaits forever: with no fault injected every
    later request times out. The history alone (echo's checker, stats: some ok) passed it."""
    bin_ = node(tmp_path, "stops.py", """\
        global answered
        if answered:
            await asyncio.Event().wait()
        answered = True
        return {"type": "echo_ok", "echo": msg.body["echo"]}""", header="import asyncio\n\nanswered = False")
    r = distlab(env, tmp_path, "check", "messenger/echo", "--bin", bin_)
    assert r.returncode == 1, r.stdout
    first = fail_lines(r.stdout)[0]
    assert first.startswith("FAIL  one node  (seed 1): ")
    assert "client requests got no reply though no fault was injected" in first
    assert "a node stopped answering" in first


def test_the_failure_that_opens_the_solution_says_so(env: dict[str, str], tmp_path: Path) -> None:
    bin_ = node(tmp_path, "empty.py", 'return {"type": "echo_ok", "echo": ""}')
    for attempt in range(1, 6):
        r = distlab(env, tmp_path, "check", "messenger/echo", "--bin", bin_)
        assert r.returncode == 1
        assert ("`distlab solution` shows the reference" in r.stdout) == (attempt == 5), (attempt, r.stdout)
    assert distlab(env, tmp_path, "solution", "messenger/echo").returncode == 0


def test_a_reply_that_is_not_json_says_why(env: dict[str, str], tmp_path: Path) -> None:
    """"reply not sent: ... error 13" alone left the learner guessing; the reason is known."""
    bin_ = node(tmp_path, "a_set.py", 'return {"type": "echo_ok", "echo": {msg.body["echo"]}}')
    r = distlab(env, tmp_path, "check", "messenger/echo", "--bin", bin_)
    assert r.returncode == 1
    assert "handler 'echo' reply not sent (message to c1 is not JSON-serialisable: Type is not JSON " \
           "serializable: set)" in fail_lines(r.stdout)[0]


def test_an_echo_reply_with_the_wrong_field_name_says_so(env: dict[str, str], tmp_path: Path) -> None:
    bin_ = node(tmp_path, "renamed.py", 'return {"type": "echo_ok", "text": msg.body["echo"]}')
    r = distlab(env, tmp_path, "check", "messenger/echo", "--bin", bin_)
    assert r.returncode == 1
    assert "got back a reply without an 'echo' field (the reply's echo must be" in fail_lines(r.stdout)[0]


def test_a_reply_missing_its_field_is_named(env: dict[str, str], tmp_path: Path) -> None:
    """read_ok with `val` for `value`: the client cannot read it, so the read was left
    indefinite; under kv-lab (no stats check) such a node passed. Now it is the node's
    error, said with the field it lacks."""
    path = tmp_path / "proxy.py"
    path.write_text(textwrap.dedent("""\
        from distlab import Node, RPCError

        node = Node()


        async def forward(msg):
            body = {k: v for k, v in msg.body.items() if k != "msg_id"}
            try:
                reply = await node.rpc("lin-kv", body, timeout=1.0)
            except RPCError as exc:
                return exc
            if msg.body["type"] == "read":
                return {"type": "read_ok", "val": reply.body["value"]}
            return {k: v for k, v in reply.body.items() if k != "in_reply_to"}


        for kind in ("read", "write", "cas"):
            node.on(kind)(forward)

        if __name__ == "__main__":
            node.run()
        """))
    r = distlab(env, tmp_path, "check", "messenger/kv-proxy", "--bin", str(path))
    assert r.returncode == 1
    first = fail_lines(r.stdout)[0]
    assert first.startswith("FAIL  two nodes over lin-kv  (seed 1): node error: n")
    assert "answered a client's 'read' with a 'read_ok' reply without its 'value' field" in first


def test_a_handler_that_never_yields_names_its_line(env: dict[str, str], tmp_path: Path) -> None:
    """The simulator's watchdog stops it after 5 s of wall time; the reason says where."""
    bin_ = node(tmp_path, "spins.py", "while True:\n    pass")
    r = distlab(env, tmp_path, "check", "messenger/echo", "--bin", bin_)
    assert r.returncode == 1, r.stdout + r.stderr
    first = fail_lines(r.stdout)[0]
    assert first.startswith("FAIL  one node  (seed 1): the run stopped: node n0 ran for 5 s of wall time "
                            "without yielding at spins.py:8 in echo (an infinite loop, or blocking code?)")


RAW = """\
import json, sys

for line in sys.stdin:
    msg = json.loads(line)
    body = msg["body"]
    if body["type"] == "init":
        reply = {{"type": "init_ok", "in_reply_to": body["msg_id"]}}
    else:
        {mistake}
        reply = {{"type": "echo_ok", "in_reply_to": body["msg_id"], "echo": body["echo"]}}
    print(json.dumps({{"src": body.get("node_id", msg["dest"]), "dest": msg["src"], "body": reply}}), flush=True)
"""


def raw(tmp_path: Path, name: str, mistake: str) -> str:
    path = tmp_path / name
    path.write_text(RAW.format(mistake=mistake))
    path.chmod(0o755)
    return str(path)


def test_debug_output_on_a_raw_nodes_stdout_fails_and_says_use_stderr(env: dict[str, str], tmp_path: Path) -> None:
    bin_ = raw(tmp_path, "chatty.py", 'print("debug: got", body)')
    r = distlab(env, tmp_path, "check", "messenger/echo", "--bin", bin_)
    assert r.returncode == 1, r.stdout + r.stderr
    first = fail_lines(r.stdout)[0]
    assert "wrote a stdout line that is not a protocol message" in first and "debug: got" in first
    assert "print debugging output to stderr" in first


def test_a_raw_node_crashing_on_a_request_names_the_exception_and_line(env: dict[str, str], tmp_path: Path) -> None:
    """It answered init, then died on the first echo: a failed check (exit 1) quoting its
    last words and line, not "did not start ... see node-logs/n0.log" (exit 2)."""
    bin_ = raw(tmp_path, "crash.py", 'body["text"]')
    r = distlab(env, tmp_path, "check", "messenger/echo", "--bin", bin_)
    assert r.returncode == 1, r.stdout + r.stderr
    first = fail_lines(r.stdout)[0]
    assert first.startswith("FAIL  one node  (seed 1): the run stopped: node n0 exited on its own (status 1)")
    assert "after KeyError: 'text' (at crash.py:9)" in first
    # real processes do not replay (`distlab replay` refuses them): the check is the rerun
    assert f"  rerun: distlab check messenger/echo --bin {bin_}" in r.stdout and "replay:" not in r.stdout
    assert str(tmp_path) in first.split("; see ")[1]  # the log's full path, not node-logs/n0.log
    assert "node error" not in first and first.count("exited on its own") == 1  # said once


def test_a_node_that_exits_at_once_names_the_seed_and_replay(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "quits.py"
    path.write_text("import sys\nsys.exit(0)\n")
    r = distlab(env, tmp_path, "check", "messenger/echo", "--bin", str(path))
    assert r.returncode == 2
    line = r.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "quits.py did not start: node n0 exited on its own (status 0)" in line
    assert f"(scenario 'one node', seed 1; rerun: distlab check messenger/echo --bin {path})" in line


def test_an_import_error_names_the_learners_line(env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "typo.py"
    path.write_text("from distlab import Nod\n\nnode = Nod()\n")
    r = distlab(env, tmp_path, "check", "messenger/echo", "--bin", str(path))
    assert r.returncode == 2
    assert "cannot import name 'Nod' from 'distlab'" in r.stderr and "(at typo.py:1)" in r.stderr
    assert "seed 1; replay: distlab replay " in r.stderr


def test_a_kv_lab_node_that_dies_at_start_did_not_start(env: dict[str, str], tmp_path: Path) -> None:
    """kv-lab tasks said "FAIL ... the run ended early ... see node-logs/n0.log" for each
    scenario (exit 1); now as node tasks: one line, its last words and line, exit 2."""
    path = tmp_path / "zero.py"
    path.write_text("import sys\nprint(1 / 0)\n")
    r = distlab(env, tmp_path, "check", "kvraft/basic", "--bin", str(path))
    assert r.returncode == 2, r.stdout + r.stderr
    line = r.stderr.strip()
    assert line.startswith("error: zero.py did not start: node n")
    assert "exited on its own (status 1) after ZeroDivisionError: division by zero (at zero.py:2)" in line
    assert f"(scenario '3a_basic', seed 1; rerun: distlab check kvraft/basic --bin {path})" in line


# --- module tasks: the learner's class runs inside distlab -----------------------------

def store(tmp_path: Path, name: str, old: str, new: str) -> str:
    src = (IN_MEMORY / "reference.py").read_text()
    assert old in src
    path = tmp_path / name
    path.write_text(src.replace(old, new))
    return str(path)


def test_an_infinite_loop_in_a_module_task_is_stopped(env: dict[str, str], tmp_path: Path) -> None:
    """It used to hang `distlab check` for good."""
    bin_ = store(tmp_path, "loops.py", "return self._map.get(key)", "while True:\n            pass")
    r = distlab(env, tmp_path, "check", "store/in-memory", "--bin", bin_, timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr
    fails = fail_lines(r.stdout)
    assert len(fails) == 1  # the next scenarios would hang as long: not run
    assert "did not finish within 3 s (at loops.py:18)" in fails[0]
    assert "the scenarios after this one were not run" in fails[0]


def test_sys_exit_in_a_module_task_is_a_failure_not_a_silent_exit(env: dict[str, str], tmp_path: Path) -> None:
    """It used to end `distlab check` mid-way with no word and exit status 1 or 3."""
    bin_ = store(tmp_path, "quits.py", "self._map.pop(key, None)", "raise SystemExit(1)")
    r = distlab(env, tmp_path, "check", "store/in-memory", "--bin", bin_)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "failed store/in-memory" in r.stdout
    assert any("your code called sys.exit(1) (at quits.py:22)" in line for line in fail_lines(r.stdout))

    at_import = tmp_path / "exits_at_import.py"
    at_import.write_text("import sys\nsys.exit(3)\n")
    r = distlab(env, tmp_path, "check", "store/in-memory", "--bin", str(at_import))
    assert r.returncode == 2
    assert "cannot import" in r.stderr and "your code called sys.exit(3) (at exits_at_import.py:2)" in r.stderr


def raft(tmp_path: Path, name: str, old: str, new: str) -> str:
    src = (ELECTION / "reference.py").read_text()
    assert old in src
    path = tmp_path / name
    path.write_text(src.replace(old, new))
    return f"{path}:make"


def test_bin_file_alone_means_the_tasks_factory(env: dict[str, str], tmp_path: Path) -> None:
    """`--bin myraft.py` (as a learner types it) used to be refused: "'myraft.py' is not
    MODULE:FACTORY"; it is the file's `make`, as in the workspace."""
    path = tmp_path / "myraft.py"
    path.write_bytes((ELECTION / "reference.py").read_bytes())
    r = distlab(env, tmp_path, "check", "raft/2a-election", "--bin", str(path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"check raft/2a-election: {path}:make" in r.stdout and "passed raft/2a-election" in r.stdout


def test_sys_exit_in_a_raft_is_a_failure_not_exit_status_0(env: dict[str, str], tmp_path: Path) -> None:
    """A Raft whose tick() called sys.exit(0) ended `distlab check` silently with status
    0: to a script, a pass."""
    bin_ = raft(tmp_path, "quits.py", "        self.core.tick()", "        raise SystemExit(0)")
    r = distlab(env, tmp_path, "check", "raft/2a-election", "--bin", bin_)
    assert r.returncode == 1, r.stdout + r.stderr
    fails = fail_lines(r.stdout)
    assert len(fails) == 1 and fails[0].startswith("FAIL  2a_initial_election  (seed 1): ")
    assert "your code called sys.exit(0) (at quits.py:23)" in fails[0]
    assert "rerun: distlab raft-test " in r.stdout and "--first-seed 1" in r.stdout


def test_an_endless_loop_in_a_raft_stops_after_its_first_scenario(env: dict[str, str], tmp_path: Path) -> None:
    """Each of the 12 scenario runs used to wait out the limit (12 minutes by default)."""
    bin_ = raft(tmp_path, "loops.py", "        self.core.tick()", "        while True:\n            pass")
    r = distlab(env, tmp_path, "check", "raft/2a-election", "--bin", bin_, timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr
    fails = fail_lines(r.stdout)
    assert len(fails) == 1, r.stdout
    assert "still running after 3 s" in fails[0] and "the scenarios after this one were not run" in fails[0]


# --- nothing lost ------------------------------------------------------------------------

def test_an_unreadable_progress_file_is_kept_not_overwritten(env: dict[str, str], tmp_path: Path) -> None:
    home = Path(env["DISTLAB_HOME"])
    home.mkdir()
    (home / "progress.json").write_text('{"version": 1, "tasks": {"messenger/echo": {"passed": tr')
    r = distlab(env, tmp_path, "check", "messenger/echo", "--bin", str(ECHO / "reference.py"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "is not distlab progress (corrupt JSON?); kept as " in r.stderr
    kept = [p for p in home.iterdir() if p.name.startswith("progress.unreadable-")]
    assert len(kept) == 1 and kept[0].read_text().endswith('"passed": tr')
    assert '"passed": true' in (home / "progress.json").read_text()


def test_a_long_list_of_nodes_is_cut_short() -> None:
    """25 nodes' final reads missing messages named every node, in the order n1, n10, n11..."""
    from distlab.tracks.explain import reasons

    results = {"valid": False, "workload": {"valid": False, "final_missing": [
        {"node": f"n{i}", "missing": [0], "missing_count": 3} for i in range(25)]}}
    assert reasons(results)[0] == ("message 0 was acknowledged but missing from n0's final read (2 more missing "
                                   "there); the final reads of n1, n2, n3, n4, n5 and 19 more missed messages too (lost)")


def test_two_commands_finishing_at_once_both_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One holds the progress while it records a pass (slowly); the other records a fail
    meanwhile. Unlocked, the later save dropped the pass: "passed" lost."""
    from distlab.tracks.progress import Progress

    monkeypatch.setenv("DISTLAB_HOME", str(tmp_path))
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""\
        import sys, time
        from distlab.tracks.progress import Progress
        with Progress.locked() as p:
            print("holding", flush=True)
            time.sleep(1.0)
            p.record_check("messenger/echo", True)
        """)], stdout=subprocess.PIPE, text=True, env=dict(os.environ, DISTLAB_HOME=str(tmp_path)))
    assert child.stdout is not None and child.stdout.readline().strip() == "holding"
    with Progress.locked() as p:  # waits for the child's save, then builds on it
        p.record_check("messenger/echo", False)
    assert child.wait(timeout=30) == 0
    after = Progress.load()
    assert after.passed("messenger/echo") and after.fails("messenger/echo") == 1


def test_replay_of_a_corrupt_run_names_the_file(env: dict[str, str], tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{bad")
    (run / "results.json").write_text('{"trace_hash": "x"}')
    r = distlab(env, tmp_path, "replay", str(run))
    assert r.returncode == 2
    assert f"{run} is not a complete run directory: config.json is not JSON: " in r.stderr
