"""Grades a `kvs` command line (Talent Plan TP 201 project 1) by running the learner's
file as a real program, `python kvs.py ARGS...`, in a fresh folder per scenario (its
working directory, where the data belongs), and checking what it prints and its exit
status. The target is the file's `main`, used only to find the file."""

from __future__ import annotations

import random
import shlex
from collections.abc import Callable
from pathlib import Path

from distlab.tracks.procgrade import Failure, learner_file, run_program, scratch

NOT_FOUND = "Key not found"


class Cli:
    """The learner's program, run in one folder."""

    def __init__(self, file: Path, folder: Path) -> None:
        self.file, self.folder = file, folder

    def run(self, *args: str) -> tuple[str, str, int]:
        res = run_program(self.file, list(args), self.folder)
        return res.stdout.rstrip("\r\n"), res.stderr.rstrip("\r\n"), res.returncode

    def ok(self, *args: str, prints: str | None = "", after: str = "") -> None:
        """Run `kvs ARGS`; it must exit 0 and print `prints` (None: anything)."""
        out, err, code = self.run(*args)
        said = f" (it said: {err.splitlines()[-1]!r})" if err else ""
        if code != 0:
            raise Failure(f"`{show(args)}`{after} ended with exit status {code}; expected 0{said}")
        if prints is not None and out != prints:
            raise Failure(f"`{show(args)}`{after} printed {out!r}; expected {prints!r}")


def show(args: tuple[str, ...] | list[str]) -> str:
    return shlex.join(["kvs", *args])


def set_then_get(cli: Cli, rng: random.Random) -> None:
    cli.ok("set", "key1", "value1")
    cli.ok("get", "key1", prints="value1", after=" after `kvs set key1 value1` in an earlier run "
           "(each run is a new process: keep the pairs in a file in the current folder)")


def get_missing(cli: Cli, rng: random.Random) -> None:
    cli.ok("set", "key1", "value1")
    cli.ok("get", "key2", prints=NOT_FOUND, after=" (key2 was never set)")


def overwrite(cli: Cli, rng: random.Random) -> None:
    cli.ok("set", "key1", "value1")
    cli.ok("set", "key1", "value2")
    cli.ok("get", "key1", prints="value2", after=" after `kvs set key1 value1` then `kvs set key1 value2`")


def rm_then_get(cli: Cli, rng: random.Random) -> None:
    cli.ok("set", "key1", "value1")
    cli.ok("rm", "key1", after=" (an rm that removed something prints nothing)")
    cli.ok("get", "key1", prints=NOT_FOUND, after=" after `kvs rm key1`")


def rm_missing(cli: Cli, rng: random.Random) -> None:
    out, err, code = cli.run("rm", "key1")
    if NOT_FOUND not in out + err:
        raise Failure(f"`kvs rm key1` of a key never set printed {out!r}; expected {NOT_FOUND!r}")
    if code == 0:
        raise Failure("`kvs rm key1` of a key never set ended with exit status 0; expected a "
                      "failing exit status (1) so a script can tell nothing was removed")


BAD = (["get"], ["set", "key1"], ["rm"], ["get", "key1", "extra"], ["set", "a", "b", "c"], ["frobnicate", "key1"])


def bad_arguments(cli: Cli, rng: random.Random) -> None:
    _, _, code = cli.run()
    if code == 0:
        raise Failure("`kvs` with no command ended with exit status 0; expected a usage error (non-zero)")
    for args in BAD:
        _, _, code = cli.run(*args)
        if code == 0:
            raise Failure(f"`{show(args)}` ended with exit status 0; expected a usage error (non-zero): "
                          "wrong arguments must not be guessed at")


def spaces_and_accents(cli: Cli, rng: random.Random) -> None:
    value = "hello, wörld  * $1 -- ok"
    cli.ok("set", "greeting", value)
    cli.ok("get", "greeting", prints=value, after=f" after `{show(['set', 'greeting', value])}` "
           "(one argument, however many spaces it holds)")
    cli.ok("set", "empty", "")
    cli.ok("get", "empty", prints="", after=" after `kvs set empty ''` (an empty value is a value, "
           "not a missing key)")


def own_folder(cli: Cli, rng: random.Random) -> None:
    cli.ok("set", "here", "in-the-first-folder")
    other = cli.folder / "elsewhere"
    other.mkdir()
    Cli(cli.file, other).ok("get", "here", prints=NOT_FOUND, after=" run in another folder, after "
                            "`kvs set here ...` in the first (the data belongs in the current folder, "
                            "not beside kvs.py)")
    cli.ok("get", "here", prints="in-the-first-folder", after=" back in the first folder")


def version(cli: Cli, rng: random.Random) -> None:
    out, err, code = cli.run("-V")
    if code != 0 or not out.strip():
        raise Failure(f"`kvs -V` printed {out!r} and ended with exit status {code}; expected a version "
                      "(e.g. 'kvs 0.1.0') and status 0")


def many_runs(cli: Cli, rng: random.Random) -> None:
    model: dict[str, str] = {}
    done: list[str] = []
    for step in range(12):
        key = f"key{rng.randrange(4)}"
        roll = rng.random()
        after = " after " + "; ".join(f"`{d}`" for d in done[-3:]) if done else ""
        if roll < 0.5:
            value = f"v{step}"
            cli.ok("set", key, value, after=after)
            model[key] = value
            done.append(show(["set", key, value]))
        elif roll < 0.75:
            cli.ok("get", key, prints=model.get(key, NOT_FOUND), after=after)
        elif key in model:
            cli.ok("rm", key, after=after)
            del model[key]
            done.append(show(["rm", key]))


SCENARIOS: dict[str, Callable[[Cli, random.Random], None]] = {
    "set, then get in another run": set_then_get,
    "each folder its own store": own_folder,
    "get of a missing key": get_missing,
    "overwrite": overwrite,
    "rm, then get": rm_then_get,
    "rm of a missing key": rm_missing,
    "bad arguments": bad_arguments,
    "values with spaces and accents": spaces_and_accents,
    "version": version,
    "twelve seeded runs": many_runs,
}


def scenarios() -> list[str]:
    """The graded scenarios, in the order they run."""
    return list(SCENARIOS)


def run(name: str, target: object, seed: int) -> str | None:
    """Run one scenario with `python FILE ...` in a fresh folder; None if it passed."""
    try:
        file = learner_file(target)
        with scratch("distlab-kvs-cli-") as folder:
            SCENARIOS[name](Cli(file, folder), random.Random(seed))
    except Failure as exc:
        return str(exc)
    return None
