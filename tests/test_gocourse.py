"""Talent Plan's Go course homework in Python (distlab/systems/gocourse): every way of
computing each answer equals a plain sequential reference written here, on small inputs
from fixed seeds. URL top-10 at the course's smallest scale (1 MB in 5 files), all eleven
cases; merge sort at the course's test lengths; the seven join cases."""

from __future__ import annotations

import os
from array import array
from collections import Counter
from pathlib import Path

import pytest

from distlab.systems.gocourse import datagen, hashjoin, mergesort, urltop10

MB1, FILES1 = datagen.SIZES[0]


def reference_top10(files: list[str]) -> str:
    """Count every line, sort everything by (-count, url), keep ten."""
    counts: Counter[str] = Counter()
    for path in files:
        for line in Path(path).read_text().split("\n"):
            if line.strip():
                counts[line.strip()] += 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    return "".join(f"{url}: {count}\n" for url, count in ranked)


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> list[datagen.Case]:
    return datagen.generate_all(tmp_path_factory.mktemp("urls"), MB1, FILES1, seed=7)


# --- data generator -------------------------------------------------------------------


def test_eleven_cases_in_course_order() -> None:
    assert [c.name for c in datagen.CASES[:5]] == [f"uniform-{n}" for n in
                                                    (1, 7, 200, 10_000, 1_000_000)]
    assert len(datagen.CASES) == 11 and datagen.CASES[10].kind == "per-file"
    assert datagen.SIZES[0] == (1 << 20, 5) and datagen.SIZES[-1] == (1 << 30, 60)


def test_result_files_are_the_reference_answer(cases: list[datagen.Case]) -> None:
    for case in cases:
        assert case.expected() == reference_top10(case.files), case.spec.name
        assert len(case.files) == FILES1


def test_case_shapes(cases: list[datagen.Case]) -> None:
    by_name = {c.spec.name: c for c in cases}
    lines = {name: [ln for f in c.files for ln in Path(f).read_text().split()]
             for name, c in by_name.items()}
    assert len(set(lines["uniform-1"])) == 1
    assert len(set(lines["uniform-7"])) == 7
    assert len(set(lines["uniform-200"])) == 200
    top_share = Counter(lines["skewed-11"]).most_common(1)[0][1] / len(lines["skewed-11"])
    assert 0.88 < top_share < 0.92
    halves = Counter(lines["skewed-50-40"]).most_common(2)
    assert 0.48 < halves[0][1] / len(lines["skewed-50-40"]) < 0.52
    assert 0.38 < halves[1][1] / len(lines["skewed-50-40"]) < 0.42
    per_file = [set(Path(f).read_text().split()) for f in by_name["url-per-file"].files]
    assert all(len(s) == 1 for s in per_file) and len(set.union(*per_file)) == FILES1
    total = sum(os.path.getsize(f) for f in by_name["uniform-10000"].files)
    assert MB1 <= total < 1.1 * MB1  # the course's line count leaves out the newlines
    assert all(line.startswith(datagen.URL_PREFIXES) for line in lines["uniform-200"])


def test_generation_is_fixed_by_the_seed(tmp_path: Path) -> None:
    spec = datagen.CASES[6]
    a = datagen.generate(spec, tmp_path / "a", 64 << 10, 3, seed=5)
    b = datagen.generate(spec, tmp_path / "b", 64 << 10, 3, seed=5)
    c = datagen.generate(spec, tmp_path / "c", 64 << 10, 3, seed=6)
    read = lambda case: [Path(f).read_bytes() for f in case.files]  # noqa: E731
    assert read(a) == read(b) and read(a) != read(c)


def test_ties_go_by_url_and_the_check_sees_order() -> None:
    counts = {"b": 3, "a": 3, "c": 5, "d": 1}
    assert datagen.top_n(counts, 3) == [("c", 5), ("a", 3), ("b", 3)]
    right = datagen.format_top(datagen.top_n(counts))
    swapped = "c: 5\nb: 3\na: 3\nd: 1\n"
    assert datagen.same_answer(right, "\n" + right + "\n")
    assert not datagen.same_answer(right, swapped)


# --- URL top-10 -----------------------------------------------------------------------


def test_sequential_and_parallel_top10_on_every_case(cases: list[datagen.Case]) -> None:
    for case in cases:
        assert urltop10.sequential_top10(case.files) == case.expected(), case.spec.name
        assert urltop10.parallel_top10(case.files, processes=2, n_reduce=3) == case.expected(), \
            case.spec.name


@pytest.mark.parametrize("index", [3, 7, 10])
def test_top10_as_distlab_mapreduce_jobs(cases: list[datagen.Case], tmp_path: Path,
                                         index: int) -> None:
    case = cases[index]
    got = urltop10.mr_top10(case.files, tmp_path, workers=2, n_reduce=3, time_limit=60)
    assert datagen.same_answer(case.expected(), got)
    assert len(list((tmp_path / "round1").glob("mr-out-*"))) == 3


def test_course_example_apps_on_distlab_mapreduce(cases: list[datagen.Case], tmp_path: Path) -> None:
    case = cases[5]
    got = urltop10.mr_top10(case.files, tmp_path, workers=2, example=True, time_limit=60)
    assert datagen.same_answer(case.expected(), got)


def test_round_two_local_top10s_need_round_one_partitioning() -> None:
    """Why round 2 may keep only ten per file: with URL counts split across files (no
    partitioning by URL), per-file top tens miss a URL that is frequent only in total."""
    from distlab.systems.gocourse.mrapps import decode_top
    from distlab.systems.gocourse.mrapps import urltop10 as round2

    # properly partitioned: each URL in one file
    files = ["a 5\nb 4\n", "c 9\n"]
    candidates = [v for f in files for _, v in round2.map_fn("f", f)]
    assert decode_top(round2.reduce_fn("top10", candidates))[:3] == [("c", 9), ("a", 5), ("b", 4)]
    # not partitioned: 'z' is 1 in each of 11 files but never in a file's own top ten
    crowd = ["\n".join([f"u{i}-{j} 2" for j in range(10)] + ["z 1"]) for i in range(11)]
    candidates = [v for f in crowd for _, v in round2.map_fn("f", f)]
    assert "z" not in dict(decode_top(round2.reduce_fn("top10", candidates)))


# --- merge sort -----------------------------------------------------------------------

COURSE_LENGTHS = [1, 3, 5, 7, 11, 13, 17, 19, 23, 29, 1024, 1 << 13, 1 << 17, 1 << 19, 1 << 20]


def test_parallel_sort_equals_sorted_at_the_course_lengths() -> None:
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2) as pool:
        for n in COURSE_LENGTHS:
            values = mergesort.random_int64(n, seed=n)
            assert mergesort.parallel_sort(values, 2, pool=pool).tolist() == sorted(values), n
        for n in (2, 29, 1 << 13):
            values = mergesort.random_int64(n, seed=n + 1)
            assert mergesort.parallel_sort(values, 3).tolist() == sorted(values), n


def test_parallel_sort_duplicates_negatives_and_extremes() -> None:
    lo, hi = -(1 << 63), (1 << 63) - 1
    values = array("q", [7] * 5000 + [hi, lo, 0, -1] * 50 + list(range(300, -300, -1)))
    assert mergesort.parallel_sort(values, 3).tolist() == sorted(values)
    same = array("q", [42] * 4096)
    assert mergesort.parallel_sort(same, 2).tolist() == sorted(same)


def test_random_int64_is_int63_and_seeded() -> None:
    a, b = mergesort.random_int64(5000, 1), mergesort.random_int64(5000, 1)
    assert a == b and a != mergesort.random_int64(5000, 2)
    assert min(a) >= 0 and max(a) > 1 << 60


# --- hash join ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return hashjoin.write_tables(tmp_path_factory.mktemp("tables"), seed=1)


def _args(case: hashjoin.JoinCase, paths: dict[str, str]) -> tuple:
    return paths[case.left], paths[case.right], case.offsets0, case.offsets1


def test_tables_have_the_course_shapes(tables: dict[str, str]) -> None:
    for name, cols in (("r0", 2), ("r1", 4), ("r2", 3)):
        rows = hashjoin.read_table(tables[name])
        assert len(rows) == hashjoin.ROWS[name] and {len(r) for r in rows} == {cols}
        ids = [int(r[0]) for r in rows]
        assert ids == sorted(set(ids))


@pytest.mark.parametrize("case", hashjoin.CASES, ids=lambda c: c.describe())
def test_seven_cases_brute_force_on_small_tables(case: hashjoin.JoinCase, tmp_path: Path) -> None:
    paths = hashjoin.write_tables(tmp_path, seed=3, scale=0.05)
    want = hashjoin.nested_loop(*_args(case, paths))
    assert hashjoin.join_example(*_args(case, paths)) == want
    assert hashjoin.join(*_args(case, paths)) == want
    assert hashjoin.parallel_join(*_args(case, paths), workers=2) == want


def test_seven_cases_at_course_size(tables: dict[str, str]) -> None:
    nonzero = 0
    for case in hashjoin.CASES:
        want = hashjoin.join_example(*_args(case, tables))
        assert hashjoin.join(*_args(case, tables)) == want, case.describe()
        assert hashjoin.parallel_join(*_args(case, tables), workers=3) == want, case.describe()
        nonzero += want != 0
    assert nonzero >= 5  # the generated tables make the cases find matches


def test_every_key_column_matters(tables: dict[str, str]) -> None:
    """A join on only the first of two key columns gives another sum: the cases can fail."""
    two_key = [c for c in hashjoin.CASES if len(c.offsets0) == 2]
    differs = [hashjoin.join(*_args(c, tables)) != hashjoin.join(
        tables[c.left], tables[c.right], c.offsets0[:1], c.offsets1[:1]) for c in two_key]
    assert any(differs)


def test_sum_wraps_as_uint64(tmp_path: Path) -> None:
    big = (1 << 63) + 5
    (tmp_path / "a.tbl").write_text(f"{big},1\n{big},1\n7,2\n")
    (tmp_path / "b.tbl").write_text("1,0\n1,0\n2,0\n")
    a, b = str(tmp_path / "a.tbl"), str(tmp_path / "b.tbl")
    want = (4 * big + 7) % (1 << 64)
    for fn in (hashjoin.nested_loop, hashjoin.join_example, hashjoin.join):
        assert fn(a, b, [1], [0]) == want
    assert hashjoin.parallel_join(a, b, [1], [0], workers=2) == want


@pytest.mark.skipif(not os.environ.get("DISTLAB_TALENTPLAN_JOIN_T"),
                    reason="DISTLAB_TALENTPLAN_JOIN_T (the course's t/ folder) is not set")
def test_course_tables_give_the_course_sums() -> None:
    folder = Path(os.environ["DISTLAB_TALENTPLAN_JOIN_T"])
    paths = {name: str(folder / f"{name}.tbl") for name in ("r0", "r1", "r2")}
    for case in hashjoin.CASES:
        assert hashjoin.join(*_args(case, paths)) == case.course_sum, case.describe()
        assert hashjoin.parallel_join(*_args(case, paths), workers=2) == case.course_sum


# --- the benchmark's comparisons compute the same answers --------------------------------


def _bench_module():
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "gocourse_bench.py"
    spec = importlib.util.spec_from_file_location("_gocourse_bench_test", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_skips_a_missing_tool_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    bench = _bench_module()
    assert bench.optional("no_such_package_for_gocourse") is None
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "no_such_package_for_gocourse not installed" in out[0]


def test_bench_tools_agree_on_top10(cases: list[datagen.Case]) -> None:
    bench = _bench_module()
    duckdb, polars = pytest.importorskip("duckdb"), pytest.importorskip("polars")
    for case in cases:
        assert bench.top10_duckdb(duckdb, 2, case.files) == case.expected(), case.spec.name
        assert bench.top10_polars(polars, case.files) == case.expected(), case.spec.name


def test_bench_tools_agree_on_the_seven_joins(tables: dict[str, str]) -> None:
    bench = _bench_module()
    duckdb, polars = pytest.importorskip("duckdb"), pytest.importorskip("polars")
    for case in (*hashjoin.CASES, hashjoin.BENCH_CASE):
        want = hashjoin.join(*_args(case, tables))
        f0, f1 = tables[case.left], tables[case.right]
        assert bench.join_duckdb(duckdb, 2, case, f0, f1) == want, case.describe()
        assert bench.join_polars(polars, case, f0, f1) == want, case.describe()


def test_bench_sort_numpy_agrees() -> None:
    numpy = pytest.importorskip("numpy")
    values = mergesort.random_int64(1 << 12, seed=9)
    assert numpy.sort(numpy.frombuffer(values, dtype=numpy.int64)).tolist() == sorted(values)


def test_join_command_checks_the_course_sums(tables: dict[str, str],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m ...hashjoin` passes on generated tables, and fails (exit 1, FAIL lines)
    when tables that are not the course's are checked against the course's sums."""
    assert hashjoin.main(["--workers", "2"]) == 0
    assert hashjoin.main(["--tables", str(Path(tables["r0"]).parent), "--workers", "2"]) == 1
    assert "FAIL (want 23904045)" in capsys.readouterr().out
