"""Course mutants written as patches against their reference: each applies to the current
reference.py (a stale one would make verify report a problem instead of grading the
mistake), and a patch that no longer applies is one line naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from distlab.tracks.catalogue import CatalogueError, Mutant, load


def _patched() -> list[tuple[str, Mutant, Path]]:
    return [(f"{t.id}/{m.file.name}", m, t.reference)
            for t in load().tasks.values() for m in t.mutants if m.file.suffix == ".patch"]


def test_every_patch_applies_and_still_compiles(tmp_path: Path) -> None:
    patched = _patched()
    assert len(patched) > 200  # most mutants are patches
    problems = []
    for name, mutant, reference in patched:
        try:
            out = mutant.materialize(reference, tmp_path / name.replace("/", "_"))
            text = out.read_text()
            compile(text, str(out), "exec")  # the mistake is still a program
            if text == reference.read_text() or out.name != mutant.file.stem + ".py":
                problems.append(f"{name}: changes nothing")
        except (CatalogueError, SyntaxError) as exc:
            problems.append(f"{name}: {exc}")
    assert not problems, "\n".join(problems)


REFERENCE = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
PATCH = """--- reference.py
+++ mutants/off_by_one.py
@@ -1,2 +1,2 @@
 def add(a, b):
-    return a + b
+    return a + b + 1
"""


def test_a_patch_is_applied_to_the_reference(tmp_path: Path) -> None:
    (tmp_path / "reference.py").write_text(REFERENCE)
    (tmp_path / "off_by_one.patch").write_text(PATCH)
    out = Mutant(tmp_path / "off_by_one.patch", "wrong").materialize(tmp_path / "reference.py", tmp_path / "out")
    assert out.read_text() == REFERENCE.replace("a + b\n", "a + b + 1\n", 1)


def test_a_patch_that_no_longer_applies_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "reference.py").write_text(REFERENCE.replace("return a + b", "return b + a"))
    (tmp_path / "off_by_one.patch").write_text(PATCH)
    with pytest.raises(CatalogueError, match=r"off_by_one\.patch no longer applies"):
        Mutant(tmp_path / "off_by_one.patch", "wrong").materialize(tmp_path / "reference.py", tmp_path / "out")


def test_a_whole_file_mutant_is_used_as_it_is(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text("x = 1\n")
    assert Mutant(f, "x").materialize(tmp_path / "reference.py", tmp_path / "out") == f
