"""The URL top-10 homework's data: eleven cases, each a set of map input files of one URL
per line plus the expected answer, generated from a seed.

The cases are the course's, in its order: URLs drawn uniformly from 1, 7, 200, 10,000 and
1,000,000 distinct ones (cases 0-4); skewed draws where the first URLs take 90%, 9%,
0.9%... of the lines among 11, 10,000 and 100,000 URLs, then 50/40 and 30/30/30 among
10,000 (cases 5-9), and one URL per file, each file a different one (case 10). A URL
looks like `github.com/pingcap/tidb/issues/42` (one of three prefixes, then its number).

The course's sizes go from 1 MB in 5 files to 1 GB in 60 (`SIZES`); every file gets
(size / files) / (mean URL length) lines, so files end a little over the target once the
newlines are counted. The answer (`result`) is the ten most frequent URLs, most frequent
first and ties by URL, one `URL: COUNT` line each; the check compares a run's answer with
it after trimming surrounding whitespace, as the course's CheckFile does."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

KB, MB, GB = 1 << 10, 1 << 20, 1 << 30

SIZES: tuple[tuple[int, int], ...] = ((1 * MB, 5), (10 * MB, 10), (100 * MB, 20),
                                      (500 * MB, 40), (1 * GB, 60))
"""(total bytes, number of map files) of the course's five scales."""

URL_PREFIXES = ("github.com/pingcap/tidb/issues", "github.com/pingcap/tidb/pull",
                "github.com/pingcap/tidb")

_SKEW_HEAD = (0.9, 0.09, 0.009, 0.0009, 0.00009, 0.000009)


@dataclass(frozen=True)
class CaseSpec:
    name: str
    kind: str  # uniform | skewed | per-file
    distinct: int = 0  # uniform and skewed: how many URLs
    head: tuple[float, ...] = ()  # skewed: the first URLs' shares; the rest split what is left


CASES: tuple[CaseSpec, ...] = (
    *(CaseSpec(f"uniform-{n}", "uniform", n) for n in (1, 7, 200, 10_000, 1_000_000)),
    CaseSpec("skewed-11", "skewed", 11, _SKEW_HEAD),
    CaseSpec("skewed-10000", "skewed", 10_000, _SKEW_HEAD),
    CaseSpec("skewed-100000", "skewed", 100_000, _SKEW_HEAD),
    CaseSpec("skewed-50-40", "skewed", 10_000, (0.5, 0.4)),
    CaseSpec("skewed-30-30-30", "skewed", 10_000, (0.3, 0.3, 0.3)),
    CaseSpec("url-per-file", "per-file"),
)
"""The course's eleven cases, case0 to case10 in its order."""


@dataclass(frozen=True)
class Case:
    spec: CaseSpec
    files: list[str]
    result_file: str

    def expected(self) -> str:
        return Path(self.result_file).read_text()


def size_label(size: int) -> str:
    for unit, name in ((GB, "GB"), (MB, "MB"), (KB, "KB")):
        if size >= unit:
            return f"{size // unit}{name}"
    return f"{size}byte"


def top_n(counts: Mapping[str, int], n: int = 10) -> list[tuple[str, int]]:
    """The n most frequent keys, most frequent first, ties broken by key (the course's TopN)."""
    import heapq

    return heapq.nsmallest(n, counts.items(), key=lambda kv: (-kv[1], kv[0]))


def format_top(pairs: Iterable[tuple[str, int]]) -> str:
    return "".join(f"{url}: {count}\n" for url, count in pairs)


def same_answer(expected: str, got: str) -> bool:
    """The course's check: equal once surrounding whitespace is trimmed."""
    return expected.strip() == got.strip()


def _urls(rng: random.Random, n: int) -> tuple[list[str], int]:
    urls = [f"{URL_PREFIXES[rng.randrange(3)]}/{i}" for i in range(n)]
    return urls, sum(map(len, urls)) // n


def _shares(spec: CaseSpec) -> list[float]:
    if sum(spec.head) > 1 or len(spec.head) > spec.distinct:
        raise ValueError(f"case {spec.name}: shares exceed the whole")
    rest = (1 - sum(spec.head)) / (spec.distinct - len(spec.head))
    return [*spec.head, *([rest] * (spec.distinct - len(spec.head)))]


def generate(spec: CaseSpec, directory: str | Path, total_size: int, n_files: int,
             seed: int = 1) -> Case:
    """Write the case's input files `inputMapFile<i>` and `result` into `directory` (reusing
    them if `result` is already there: the large scales take a while to write)."""
    directory = Path(directory)
    files = [str((directory / f"inputMapFile{i}").resolve()) for i in range(n_files)]
    result = directory / "result"
    if result.exists() and all(Path(f).exists() for f in files):
        return Case(spec, files, str(result.resolve()))
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{seed}:{spec.name}:{total_size}:{n_files}")
    urls, mean_len = _urls(rng, n_files if spec.kind == "per-file" else spec.distinct)
    per_file = (total_size // n_files) // mean_len
    cum_weights = None
    if spec.kind == "skewed":
        cum_weights, acc = [], 0.0
        for share in _shares(spec):
            acc += share
            cum_weights.append(acc)
    counts: Counter[str] = Counter()
    for i, path in enumerate(files):
        if spec.kind == "per-file":
            lines = [urls[i]] * per_file
        elif cum_weights is not None:
            lines = rng.choices(urls, cum_weights=cum_weights, k=per_file)
        else:
            lines = rng.choices(urls, k=per_file)
        counts.update(lines)
        with open(path, "w") as f:
            f.write("\n".join(lines))
            f.write("\n" if lines else "")
    result.write_text(format_top(top_n(counts)))
    return Case(spec, files, str(result.resolve()))


def generate_all(root: str | Path, total_size: int, n_files: int, seed: int = 1,
                 cases: Iterable[CaseSpec] = CASES) -> list[Case]:
    """Every case at one scale, in `root/case<i>-<size>-<files>` as the course names them."""
    root = Path(root)
    out = []
    for spec in cases:
        index = CASES.index(spec)
        out.append(generate(spec, root / f"case{index}-{size_label(total_size)}-{n_files}",
                            total_size, n_files, seed))
    return out
