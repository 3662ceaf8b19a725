"""Talent Plan's Go course homework (the TiDB track), redone in Python: the ten most
frequent URLs by MapReduce over the course's generated cases (`urltop10`, `datagen`), a
parallel merge sort of 16M int64 (`mergesort`), and a hash join whose answer is the sum of
relation 0's first column over the join (`hashjoin`). Each has a plain single-process
version to check against and to race; benchmarks/gocourse_bench.py races them and the tools
a user would reach for instead (numpy, DuckDB, Polars)."""
