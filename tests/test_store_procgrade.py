"""distlab.tracks.procgrade: the helpers that grade a learner's program as a process.
Each failure must come back as one sentence, within its timeout, with no process left."""

from __future__ import annotations

import os
import shutil
import socket
import textwrap
from pathlib import Path

import pytest

from distlab.tracks.procgrade import (
    Failure,
    Server,
    learner_file,
    redis_cli,
    run_isolated,
    run_program,
)

pytestmark = pytest.mark.timeout(60)


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def test_learner_file_names_the_defining_file() -> None:
    assert learner_file(learner_file) == Path(__file__).resolve().parents[1] / "distlab/tracks/procgrade.py"


def test_run_program_runs_in_the_folder_and_reports_a_hang(tmp_path: Path) -> None:
    prog = write(tmp_path / "p.py", """
        import os, sys, time
        if sys.argv[1] == "cwd":
            print(os.getcwd())
        else:
            time.sleep(30)
    """)
    folder = tmp_path / "data"
    folder.mkdir()
    assert run_program(prog, ["cwd"], folder).stdout.strip() == str(folder)
    with pytest.raises(Failure, match=r"`python p.py sleep` did not finish within 0.5 s"):
        run_program(prog, ["sleep"], folder, timeout=0.5)


def test_server_that_exits_is_reported_with_its_last_words(tmp_path: Path) -> None:
    prog = write(tmp_path / "s.py", """
        import sys
        print("cannot open the log", file=sys.stderr)
        sys.exit(3)
    """)
    with pytest.raises(Failure, match=r"exited with status 3 before listening .*: cannot open the log"):
        Server(prog, tmp_path / "db").start()


def test_server_that_never_listens_is_killed(tmp_path: Path) -> None:
    prog = write(tmp_path / "s.py", """
        import os, time
        open("pid", "w").write(str(os.getpid()))
        time.sleep(60)
    """)
    server = Server(prog, tmp_path / "db")
    with pytest.raises(Failure, match=r"did not listen on 127.0.0.1:\d+ within 1 s"):
        server.start(timeout=1)
    pid = int((tmp_path / "db" / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


SERVER = """
    import argparse, socket
    p = argparse.ArgumentParser()
    p.add_argument("--addr")
    host, _, port = p.parse_args().addr.rpartition(":")
    s = socket.create_server((host, int(port)))
    while True:
        c, _ = s.accept()
        with c:
            data = b""
            while b"\\r\\n" not in data:
                more = c.recv(100)
                if not more:
                    break
                data += more
            else:
                c.sendall({reply!r})
"""


def test_server_runs_and_is_killed_on_exit(tmp_path: Path) -> None:
    prog = write(tmp_path / "s.py", SERVER.format(reply=b"+PONG\r\n"))
    with Server(prog, tmp_path / "db") as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as c:
            c.sendall(b"PING\r\n")
            assert c.recv(100) == b"+PONG\r\n"
        proc = server.proc
        assert proc is not None
    assert proc.poll() is not None


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli not installed")
def test_redis_cli_output_and_a_silent_server(tmp_path: Path) -> None:
    prog = write(tmp_path / "s.py", SERVER.format(reply=b"+PONG\r\n"))
    with Server(prog, tmp_path / "db") as server:
        assert redis_cli(server.port, "PING") == "PONG\n"
    closes = write(tmp_path / "c.py", SERVER.format(reply=b""))
    with Server(closes, tmp_path / "db1") as server:
        with pytest.raises(Failure, match=r"`redis-cli -p \d+ PING` failed: .*closed the connection"):
            redis_cli(server.port, "PING")
    silent = write(tmp_path / "q.py", SERVER.replace("c.recv(100)", "c.recv(100) and c.recv(100)").format(reply=b""))
    with Server(silent, tmp_path / "db2") as server:
        with pytest.raises(Failure, match=r"`redis-cli -p \d+ PING` got no answer within 1 s"):
            redis_cli(server.port, "PING", timeout=1)
    with pytest.raises(Failure, match="Connection refused|Could not connect"):
        redis_cli(server.port, "PING")


GRADER = """
    import threading, time
    def run_here(name, target, seed):
        if name == "hang":
            threading.Thread(target=time.sleep, args=(60,)).start()  # a non-daemon thread
            time.sleep(60)
        if name == "leave a thread":
            threading.Thread(target=time.sleep, args=(60,)).start()
        if name == "crash":
            import os
            os.abort()
        return None if target() == seed else f"got {target()}"
"""


def test_run_isolated_reports_a_hang_a_crash_and_a_result(tmp_path: Path) -> None:
    grader = write(tmp_path / "grader.py", GRADER)
    write(tmp_path / "learner.py", "def make():\n    return 7\n")
    from distlab.systems.raft.suite import load_factory

    target = load_factory(f"{tmp_path / 'learner.py'}:make")
    assert run_isolated(str(grader), "ok", target, 7, 30, "stuck") is None
    assert run_isolated(str(grader), "ok", target, 8, 30, "stuck") == "got 7"
    assert run_isolated(str(grader), "leave a thread", target, 7, 30, "stuck") is None  # not waited for
    assert run_isolated(str(grader), "hang", target, 7, 2, "a worker never ended") == (
        "'hang' did not finish within 2 s: a worker never ended")
    crashed = run_isolated(str(grader), "crash", target, 7, 30, "stuck")
    assert crashed is not None and crashed.startswith("the process running 'crash' died with status")


def test_read_replies_takes_whole_replies_and_reports_what_is_missing() -> None:
    from distlab.tracks.procgrade import command, read_replies

    assert command("SET", "k", "é") == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n\xc3\xa9\r\n"
    a, b = socket.socketpair()
    with a, b:
        # split mid-reply, with a bulk string holding CRLF, nil, an integer, an array, an error
        b.sendall(b"+OK\r\n$4\r\na\r\nb\r\n$-1\r\n:3\r\n*2\r\n$1\r\nx")
        b.sendall(b"\r\n:1\r\n-ERR no\r\n")
        assert read_replies(a, 6, 5, "six") == [b"+OK\r\n", b"$4\r\na\r\nb\r\n", b"$-1\r\n", b":3\r\n",
                                               b"*2\r\n$1\r\nx\r\n:1\r\n", b"-ERR no\r\n"]
        b.sendall(b"+OK\r\n$5\r\nab")
        with pytest.raises(Failure, match=r"^two: 1 of 2 replies came within 0.5 s$"):
            read_replies(a, 2, 0.5, "two")
        b.close()
        with pytest.raises(Failure, match=r"closed the connection after 0 of 1 replies"):
            read_replies(a, 1, 5, "one")


def test_a_port_taken_meanwhile_costs_a_retry_and_restarts_get_a_fresh_port(tmp_path: Path) -> None:
    prog = write(tmp_path / "s.py", SERVER.format(reply=b"+PONG\r\n"))
    server = Server(prog, tmp_path / "db")
    with socket.socket() as squatter:  # bound, not listening: a connect is refused, a bind fails
        squatter.bind(("127.0.0.1", 0))
        taken = squatter.getsockname()[1]
        ports = iter([taken, 0])
        import distlab.tracks.procgrade as pg

        real = pg.free_port
        pg.free_port = lambda: next(ports) or real()  # type: ignore[assignment]
        try:
            server.start()
        finally:
            pg.free_port = real  # type: ignore[assignment]
        try:
            assert server.port != taken
            first = server.port
            server.restart()
            assert server.port != first
        finally:
            server.stop()
    log = (tmp_path / "db-server.log").read_text()
    assert "in use" in log  # the first try did fail on the taken port
