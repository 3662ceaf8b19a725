"""Grades URL top-k as MapReduce (Talent Plan's Go course homework): map_fn/reduce_fn
count URLs, top(results, k) picks the k most frequent from the reduce outputs. Inputs
are seeded, some heavily skewed; the reducer of the hottest URL must receive at most one
value per map task (counts combined in the map)."""

from __future__ import annotations

import importlib.util
import random
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any


def _kit() -> Any:
    spec = importlib.util.spec_from_file_location("_mapreducer_kit", Path(__file__).resolve().parent.parent / "kit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


kit = _kit()
Wrong = kit.Wrong
FILES, LINES, K = 8, 2500, 10


def _urls(name: str, rng: random.Random) -> list[str]:
    """Every URL occurrence of the scenario, in order."""
    n = FILES * LINES
    if name == "uniform, 1,000 URLs":
        return [f"http://example.com/{rng.randrange(1000)}" for _ in range(n)]
    if name == "one hot URL":
        return [("http://hot.example.com/" if rng.random() < 0.6 else f"http://example.com/{rng.randrange(5000)}")
                for _ in range(n)]
    if name == "Zipf-skewed":
        weights = [1 / (i + 1) for i in range(2000)]
        return [f"http://zipf.example.com/{i}" for i in rng.choices(range(2000), weights, k=n)]
    # ties: 30 URLs 12 times each and 20 URLs 9 times each, shuffled, padded with singletons
    urls = [f"http://tie.example.com/{chr(97 + i % 26)}{i}" for i in range(30) for _ in range(12)]
    urls += [f"http://nine.example.com/{i}" for i in range(20) for _ in range(9)]
    urls += [f"http://once.example.com/{i}" for i in range(n - len(urls))]
    rng.shuffle(urls)
    return urls


def _expected(urls: list[str]) -> list[tuple[str, int]]:
    return sorted(Counter(urls).items(), key=lambda kv: (-kv[1], kv[0]))[:K]


def _run(name: str, target: object, seed: int) -> str | None:
    module = kit.module_of(target)
    map_fn, reduce_fn, top = (kit.function(module, f) for f in ("map_fn", "reduce_fn", "top"))
    rng = random.Random(f"{name}/{seed}")
    urls = _urls(name, rng)
    heaviest: list[tuple[int, str]] = []

    def look(index: int, pairs: list[tuple[str, str]]) -> None:
        counts = Counter(k for k, _ in pairs)
        if counts:
            key, n = counts.most_common(1)[0]
            heaviest.append((n, key))

    with tempfile.TemporaryDirectory(prefix="distlab-topk-") as tmp:
        files = []
        for i in range(FILES):
            path = Path(tmp) / f"urls-{i}.txt"
            path.write_text("\n".join(urls[i * LINES:(i + 1) * LINES]) + "\n", encoding="utf-8")
            files.append(str(path))
        results = kit.run_job(map_fn, reduce_fn, files, n_reduce=4, on_partition=look)
    n, key = max(heaviest)
    if n > FILES:
        return (f"the reducer of {key!r} received {n:,} values for it from {FILES} map tasks, one per "
                "occurrence: count in the map (a combiner) so it gets at most one per map task; with skewed "
                "data (a hot URL) one reducer otherwise receives most of the shuffle")
    got = kit.call(f"top(results, {K})", top, dict(results), K)
    try:
        pairs = [(u, c) for u, c in got]
    except (TypeError, ValueError):
        return f"top(results, {K}) returned {got!r:.200}; expected a list of (url, count) pairs"
    odd = next(((u, c) for u, c in pairs if not isinstance(u, str) or type(c) is not int), None)
    if odd is not None:
        return (f"top(results, {K}) has the pair {odd!r}; expected (url, count) with the count an int "
                "(reduce outputs are strings: convert them)")
    got = pairs
    want = _expected(urls)
    for i, (g, w) in enumerate(zip(got, want, strict=False)):
        if g != w:
            return (f"top(results, {K}) has {g!r} at position {i + 1}; expected {w!r} (most frequent first, "
                    "equal counts in URL order, counts compared as numbers)")
    if len(got) != len(want):
        return f"top(results, {K}) returned {len(got)} URLs; expected {len(want)}"
    return None


def scenarios() -> list[str]:
    return ["uniform, 1,000 URLs", "one hot URL", "Zipf-skewed", "ties"]


def run(name: str, target: object, seed: int) -> str | None:
    try:
        return _run(name, target, seed)
    except Wrong as exc:
        return str(exc)
