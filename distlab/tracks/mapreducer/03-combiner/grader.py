"""Grades word count with a combiner: each map emits one pair per distinct word of its
file (the count in that file), reduce adds them up. The counts must equal the sequential
wc's, and no map may emit a word twice."""

from __future__ import annotations

import importlib.util
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from distlab.systems.mapreduce.apps import wc
from distlab.systems.mapreduce.inputs import write_inputs


def _kit() -> Any:
    spec = importlib.util.spec_from_file_location("_mapreducer_kit", Path(__file__).resolve().parent.parent / "kit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kit = _kit()


def _combined(map_fn: Any) -> Any:
    """map_fn, checked to emit each key at most once per file."""

    def checked(filename: str, contents: str) -> list[tuple[str, str]]:
        what = f"map_fn({Path(filename).name!r}, ...)"
        pairs = kit.pairs_of(what, kit.call(what, map_fn, filename, contents))
        key, times = max(Counter(k for k, _ in pairs).items(), key=lambda kv: kv[1], default=("", 0))
        if times > 1:
            raise kit.Wrong(f"{what} emitted the key {key!r} {times} times: a combiner leaves one pair per "
                            f"word per map task ({len(pairs):,} pairs for {len({k for k, _ in pairs}):,} "
                            "distinct words), so far less crosses the network to the reducers")
        return pairs

    return checked


def _run(name: str, target: object, seed: int) -> str | None:
    module = kit.module_of(target)
    map_fn, reduce_fn = kit.function(module, "map_fn"), kit.function(module, "reduce_fn")
    with tempfile.TemporaryDirectory(prefix="distlab-combiner-") as tmp:
        if name == "one file":
            path = Path(tmp) / "input.txt"
            path.write_text("the cat and the hat and the bat\nthe end\n", encoding="utf-8")
            files = [str(path)]
        else:
            files = write_inputs(tmp, seed, words=800)
        expected = kit.run_job(wc.map_fn, wc.reduce_fn, files)
        got = kit.run_job(_combined(map_fn), reduce_fn, files, n_reduce=3)
    return kit.compare(expected, got)


def scenarios() -> list[str]:
    return ["one file", "eight seeded books"]


def run(name: str, target: object, seed: int) -> str | None:
    try:
        return _run(name, target, seed)
    except kit.Wrong as exc:
        return str(exc)
