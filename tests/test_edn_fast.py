"""distlab.history's fast EDN reader gives exactly what edn_format gives (types included:
True is not 1), and hands anything outside its subset back to edn_format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from distlab import history as h
from tests.conftest import shared_glob


def strict(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(strict(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(strict(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def slow(text: str) -> list[Any]:
    return [h._plain(form) for form in h._edn().loads_all(text)]


SUBSET = [
    '[{:type :invoke, :f :read, :value nil, :process 0, :time 12}]',
    '{:type :ok :f :txn :value [[:append 1 2] [:r 1 [1 2]]] :process 3}\n{:type :fail :process 3}',
    '({:type :info, :value #{3 1 2}, :error "a \\"quoted\\" word\\nand a line", :ok true, :no false})',
    '[{:type :ok, :value -0, :x 1.5, :y -2.5e-3, :z 3E2, 7 :int-key, nil :nil-key, :k #{}}]',
    '; a comment\n[{:type :ok ;; another\n :process :nemesis, :f :join, :a/b :ns/kw}]',
]


@pytest.mark.parametrize("text", SUBSET)
def test_the_subset_reads_as_edn_format_reads_it(text: str) -> None:
    fast = h._fast_edn_forms(text)
    assert fast is not None
    assert strict(fast, slow(text))


@pytest.mark.parametrize("text", [
    '[{:type :ok :f read}]',  # a symbol
    '[{:type :ok :value #inst "2020-01-01"}]',  # a tagged literal
    '[{:type :ok :value "\\u00e9"}]',  # a unicode escape
    '[{:type :ok :value \\a}]',  # a character
    '[{:type :ok :value 1N :v 1.5M :r 1/2 :p +5}]',  # big numbers, a ratio, a plus sign
    '[{:type :ok :value #_ 1 2}]',  # a discarded form
    '[{:type :ok :value #{[1] 2}}]',  # a set whose elements do not sort
    '[{:type :ok}', '[{:type :ok}))', '{:type :ok :value}',  # unbalanced, odd map
    '[{:type :ok :value 007}]',
    '[{:type :ok :f :can\'t-join}]',  # edn_format refuses the quote: so must this reader
    '[{:type :ok :f :a/b/c}]', '[{:type :ok :f :a//b}]', '[{:type :ok :f :ab/}]',  # not one name/space
])
def test_anything_else_goes_to_edn_format(text: str) -> None:
    assert h._fast_edn_forms(text) is None


def test_the_small_reference_histories_read_the_same_both_ways() -> None:
    files = [p for p in shared_glob("**/*.edn") if p.stat().st_size < 8_000]
    assert len(files) >= 10
    for path in files:
        text = path.read_text()
        fast = h._fast_edn_forms(text)
        assert fast is not None, path
        assert strict(fast, slow(text)), path


def test_errors_still_name_their_line(tmp_path: Path) -> None:
    bad = tmp_path / "h.edn"
    bad.write_text('[{:type :ok, :process 0}\n {:process 1}]\n')
    with pytest.raises(h.HistoryError, match=r"h\.edn:2: not a history record"):
        h.read_edn(bad)
    bad.write_text('[{:type :ok, :process 0}\n {:type :ok :value #inst}]\n')
    with pytest.raises(h.HistoryError, match=r"h\.edn:2: invalid EDN"):
        h.read_edn(bad)
