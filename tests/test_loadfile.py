"""import_file: a learner's file runs as the named module, registered first (so a
dataclass inside it works), and its own errors reach the caller unchanged."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from distlab.loadfile import import_file


def test_a_file_becomes_the_named_module(tmp_path: Path) -> None:
    f = tmp_path / "piece.py"
    f.write_text("from dataclasses import dataclass\n\n@dataclass\nclass P:\n    x: int = 1\n")
    module = import_file(f, "_test_loadfile_piece")
    assert sys.modules["_test_loadfile_piece"] is module and module.P().x == 1


def test_the_files_own_error_propagates(tmp_path: Path) -> None:
    f = tmp_path / "broken.py"
    f.write_text("raise ValueError('nope')\n")
    with pytest.raises(ValueError, match="nope"):
        import_file(f, "_test_loadfile_broken")


def test_a_file_that_is_not_python_is_an_import_error(tmp_path: Path) -> None:
    f = tmp_path / "data.txt"
    f.write_text("x")
    with pytest.raises(ImportError, match="cannot be loaded"):
        import_file(f, "_test_loadfile_data")
